// Requests and commands shared by the server and the VS Code extension (the extension bundles
// this file, so it imports nothing).

/** `lvi/reportPath`: where the study's HTML report is (or will be) written. */
export const reportPathRequest = 'lvi/reportPath';
export interface ReportPathParams {
  uri: string;
}
export interface ReportPathResult {
  /** Absolute path of the report, or null when the study cannot be compiled far enough. */
  path: string | null;
  exists: boolean;
}

/** Client-side commands the server's code lenses invoke (the extension registers them). */
export const clientCommands = {
  runStudy: 'lvi.runStudy',
  runStatement: 'lvi.runStatement',
  openReport: 'lvi.openReport',
  /** Arguments: the npm package, the folder to install in (the study's) or null. */
  installPackage: 'lvi.installPackage',
} as const;
