/**
 * The two error types this package throws.
 *
 * The split is deliberate. A caller bug or malformed user input (a 31-byte key, a recovery key
 * with a typo) is reported precisely, because the person reading the message is the developer or
 * the user who typed it. A failed decryption or verification is reported with one fixed message,
 * because the party who chose the input may be an attacker probing for differences: "bad tag"
 * versus "bad padding" versus "bad signature" is exactly the kind of oracle that has broken
 * deployed protocols. So every check on attacker-controlled data ends in the same
 * `AuthenticationError('authentication failed')`, with no `cause` attached.
 *
 * @module
 */

/**
 * A caller supplied an argument that is wrong in a way the caller controls: wrong length, wrong
 * type, out-of-range number, unparseable user input. The message names the argument and the rule
 * (`key must be 32 bytes`). Never thrown for data that failed authentication.
 */
export class InvalidInputError extends TypeError {
  override name = 'InvalidInputError';
}

/**
 * A decryption, signature, commitment, chain or replay check failed. The message is always
 * `authentication failed` and there is no `cause`, so the error cannot tell an attacker which
 * check rejected the input. Log it as a decryption failure; never show the input as content.
 */
export class AuthenticationError extends Error {
  override name = 'AuthenticationError';
  constructor() {
    super('authentication failed');
  }
}

/**
 * Run `fn` and turn any failure into an {@link AuthenticationError}. Used around every step that
 * parses or checks attacker-controlled bytes, so a parse error deep in a codec cannot leak which
 * field was malformed.
 */
export async function orAuthFailure<T>(fn: () => Promise<T> | T): Promise<T> {
  try {
    return await fn();
  } catch {
    throw new AuthenticationError();
  }
}
