import type { ZxcvbnFactory } from '@zxcvbn-ts/core';

/** Entropy a passphrase needs (§3.9): about five diceware words. Guessing is not rate-limited. */
export const MIN_PASSPHRASE_BITS = 60;
/** Shortest passphrase the crypto package accepts at all. */
const MIN_LENGTH = 12;

/** How strong a passphrase is, by the same rule everywhere (client and web). */
export interface PassphraseStrength {
  /** Strong enough to protect the key backup: at least {@link MIN_PASSPHRASE_BITS} and 12 characters. */
  ok: boolean;
  /** Estimated bits (zxcvbn's guesses, log2), rounded down. */
  bits: number;
  /** zxcvbn's score, for a meter. */
  score: 0 | 1 | 2 | 3 | 4;
  /** Why it is weak, when zxcvbn can tell (e.g. "common password"). */
  warning: string | null;
  suggestions: string[];
}

let factory: Promise<ZxcvbnFactory> | null = null;

/** zxcvbn with the common-password and diceware dictionaries, loaded on first use (they are large). */
function estimator(): Promise<ZxcvbnFactory> {
  factory ??= Promise.all([import('@zxcvbn-ts/core'), import('@zxcvbn-ts/language-common')]).then(
    ([core, common]) =>
      new core.ZxcvbnFactory({
        dictionary: { ...common.dictionary },
        graphs: common.adjacencyGraphs,
      }),
  );
  return factory;
}

/**
 * Estimates a passphrase's strength with zxcvbn (dictionaries of common passwords and diceware
 * words, keyboard patterns, repeats, dates). `userInputs` (username, app name) count as known
 * words. The first call loads the dictionaries; later ones are fast enough for every keystroke.
 */
export async function checkPassphraseStrength(
  passphrase: string,
  userInputs: string[] = [],
): Promise<PassphraseStrength> {
  const zxcvbn = await estimator();
  const result = zxcvbn.check(passphrase, ['securechat', 'secure chat', ...userInputs]);
  const bits = Math.floor(result.guessesLog10 * Math.log2(10));
  const length = [...passphrase.normalize('NFC')].length;
  return {
    ok: bits >= MIN_PASSPHRASE_BITS && length >= MIN_LENGTH,
    bits,
    score: result.score,
    warning: result.feedback.warning ?? (length < MIN_LENGTH ? 'tooShort' : null),
    suggestions: result.feedback.suggestions,
  };
}
