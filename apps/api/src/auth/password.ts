import { hash, verify } from '@node-rs/argon2';
import { dictionary } from '@zxcvbn-ts/language-common';

/** Password length bounds; the upper one caps the cost of hashing attacker-chosen input. */
export const PASSWORD_MIN = 10;
export const PASSWORD_MAX = 256;

// OWASP's Argon2id baseline (m = 19 MiB, t = 2, p = 1): about 30 ms per hash here.
const ARGON2_OPTIONS = { memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

/** ~49,000 leaked and common passwords shipped by @zxcvbn-ts/language-common. */
const commonPasswords = new Set(
  (dictionary['passwords-common'] as string[]).map((password) => password.toLowerCase()),
);

/** Whether a password is in the common-password list, compared case-insensitively. */
export function isCommonPassword(password: string): boolean {
  return commonPasswords.has(password.toLowerCase());
}

export function hashPassword(password: string): Promise<string> {
  return hash(password, ARGON2_OPTIONS);
}

export async function verifyPassword(passwordHash: string, password: string): Promise<boolean> {
  try {
    return await verify(passwordHash, password);
  } catch {
    return false;
  }
}

/**
 * A hash of a random password, verified against when the username is unknown so that an
 * unknown user and a wrong password cost the same time and give the same answer.
 */
export function createDummyHash(): Promise<string> {
  const random = new Uint8Array(24);
  crypto.getRandomValues(random);
  return hashPassword(Buffer.from(random).toString('base64'));
}
