/** A code as typed or pasted, reduced to what matters: no spaces, dashes or dots, upper case. */
export function normalizeCode(text: string): string {
  return text.replace(/[\s\-_.]/g, '').toUpperCase();
}

/** Splits a code into groups for reading aloud and typing: "k7qm-x2pf" → ["K7QM", "X2PF"]. */
export function groupCode(code: string, size = 4): string[] {
  const compact = normalizeCode(code);
  const groups: string[] = [];
  for (let i = 0; i < compact.length; i += size) groups.push(compact.slice(i, i + size));
  return groups;
}

/** "4:07": minutes and seconds left, rounded up, never below zero. */
export function formatCountdown(ms: number): string {
  const total = Math.max(0, Math.ceil(ms / 1000));
  const minutes = Math.floor(total / 60);
  const seconds = String(total % 60).padStart(2, '0');
  return `${minutes}:${seconds}`;
}
