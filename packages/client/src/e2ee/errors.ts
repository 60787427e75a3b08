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
