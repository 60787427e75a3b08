/** The canary scan's row in the results table; its presence marks a run of the whole suite. */
export const CANARY_SCAN_PROPERTY =
  'Canary scan: plaintext messages, file names, event titles, passwords, tokens in logs, databases, WAL, file store';
