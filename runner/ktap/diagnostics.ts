/**
 * The parse's diagnostics: every anomaly as data, at most `maxPerCode` listed
 * per code (the rest only counted), each emitted as a `diagnostic` event.
 * Shared by the parser's stages. Pure.
 */
import type { Diagnostic, DiagnosticCode, KtapEvent } from './model.js';

export class DiagnosticList {
  readonly list: Diagnostic[] = [];
  private readonly perCode = new Map<DiagnosticCode, number>();
  private readonly emit: ((e: KtapEvent) => void) | undefined;
  private readonly maxPerCode: number;

  constructor(emit: ((e: KtapEvent) => void) | undefined, maxPerCode: number) {
    this.emit = emit;
    this.maxPerCode = maxPerCode;
  }

  /**
   * Record one anomaly at input line `line`; `path` gives the slash-joined path of the test
   * concerned (called only when the diagnostic is listed).
   */
  add(code: DiagnosticCode, message: string, severity: Diagnostic['severity'], line: number, path?: () => string): void {
    const n = (this.perCode.get(code) ?? 0) + 1;
    this.perCode.set(code, n);
    if (n > this.maxPerCode) return;
    const d: Diagnostic = { code, message, line, severity };
    if (path !== undefined) d.path = path();
    if (n === this.maxPerCode) d.message += ` (further "${code}" diagnostics not listed)`;
    this.list.push(d);
    this.emit?.({ type: 'diagnostic', diagnostic: d });
  }
}
