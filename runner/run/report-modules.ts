/**
 * The report writers pull in every reporter (junit-report-builder among them): about 60 ms.
 * They are loaded while the first QEMU boots, not before it starts.
 */
let reportModules: Promise<[typeof import('../reports.js')]> | undefined;
export function loadReportModules(): typeof reportModules & object {
  reportModules ??= Promise.all([import('../reports.js')]);
  return reportModules;
}
