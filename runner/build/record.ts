/**
 * What a build was, for results.json's `build` object (docs/json-format.md#build):
 * so reports and the gate can tell which build they are about. `run --build`
 * puts it on the result; the JSON reporter writes it.
 */

/** The kernel build a `run --build` booted. */
export interface BuildRecord {
  /** The kernel tree and the build dir (absolute). */
  source: string;
  buildDir: string;
  arch: string;
  /** The image booted (absolute). */
  image: string;
  /** When the build started (ISO 8601), and how long configure + make took. */
  started: string;
  durationMs: number;
  /** sha256 of the build dir's .config. */
  configHash: string;
  /** Whether the .config was written and `make olddefconfig` ran (false: nothing had changed). */
  reconfigured: boolean;
  /** Whether make ran (false: nothing had changed since the last build, runner/build/unchanged.ts). */
  makeRun: boolean;
  /** Kernel objects make compiled this time (0: nothing to do). */
  objectsCompiled: number;
  /** The kunitconfig fragments, in merge order, with their sha256. */
  fragments: { path: string; sha256: string }[];
  kconfigAdd: string[];
  makeOptions: string[];
  /** The build's make command line. */
  make: string;
  /** `--version` first lines: `cc`, `ld`, and with Rust `rustc`, `bindgen`. */
  compilers: Record<string, string>;
}

declare module '../ktap/model.js' {
  interface RunResult {
    /** Set by `run --build`: the build that made the image. */
    build?: BuildRecord;
  }
}
