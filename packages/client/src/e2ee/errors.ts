import type { PassphraseStrength } from '../passphrase-strength.ts';

/** A contact's signing key changed after this device pinned it (see `acceptIdentityChange`). */
export class IdentityChangedError extends Error {
  override name = 'IdentityChangedError';
  constructor(
    readonly userId: string,
    readonly verified: boolean,
  ) {
    super(
      verified
        ? 'A verified contact’s safety number changed: sending is blocked until you accept the change'
        : 'A contact’s safety number changed',
    );
  }
}

/** The recovery key was mistyped, or belongs to another account; nothing was changed. */
export class RecoveryKeyError extends Error {
  override name = 'RecoveryKeyError';
}

/** End-to-end encryption is not set up on this device yet. */
export class DeviceNotSetUpError extends Error {
  override name = 'DeviceNotSetUpError';
  constructor() {
    super('Set up end-to-end encryption on this device first (devices.setup or devices.recover)');
  }
}

/** A user in the conversation has not set up end-to-end encryption, so nothing can be sent to them. */
export class NotSetUpError extends Error {
  override name = 'NotSetUpError';
  constructor(readonly userId: string) {
    super('A member has not set up end-to-end encryption yet');
  }
}

/** The passphrase does not open this account's recovery, or none was set; nothing was changed. */
export class PassphraseError extends Error {
  override name = 'PassphraseError';
}

/** The passphrase is too easy to guess (see `checkPassphraseStrength`); nothing was changed. */
export class WeakPassphraseError extends Error {
  override name = 'WeakPassphraseError';
  constructor(readonly strength: PassphraseStrength) {
    super(
      `This passphrase is too easy to guess (about ${strength.bits} bits; at least 60 are needed): use five or more random words`,
    );
  }
}

/**
 * A link code that cannot be used: mistyped (`malformed`), or matching no device waiting to be
 * linked to this account (`not-found`: wrong, expired, already used or withdrawn). Nothing was
 * changed, and the waiting device can still be linked with the right code.
 */
export class LinkCodeError extends Error {
  override name = 'LinkCodeError';
  constructor(
    readonly reason: 'malformed' | 'not-found',
    message: string,
  ) {
    super(message);
  }
}

/** Linking this (new) device did not complete: the request expired, or the reply failed verification. */
export class LinkError extends Error {
  override name = 'LinkError';
  constructor(
    readonly reason: 'expired' | 'invalid',
    message: string,
  ) {
    super(message);
  }
}
