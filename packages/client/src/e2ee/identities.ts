import {
  createDeviceDirectory,
  ctEqual,
  decodeDeviceList,
  fromBase64Url,
  fromHex,
  trustOnFirstUse,
  verifyDeviceListUpdate,
  type DeviceDirectory,
  type DeviceList,
} from '@securechat/crypto';
import type { ApiClient } from '../client.ts';
import { IdentityChangedError } from './errors.ts';
import type { IdentityRecord, LocalState } from './local-state.ts';

/** How long a fetched device list is trusted to be current before it is fetched again. */
const FRESH_MS = 5_000;

export type IdentityNotice = { type: 'identity-changed'; userId: string; verified: boolean };

/**
 * Contacts' identities: their signing keys pinned on first use, and their device lists verified
 * against the pin (signature, version never going back, hash chain without gaps).
 */
export class Identities {
  #directory: DeviceDirectory | null = null;
  readonly #fetchedAt = new Map<string, number>();

  constructor(
    private readonly api: ApiClient,
    private readonly local: LocalState,
    private readonly notify: (notice: IdentityNotice) => void,
  ) {}

  /** The verified devices of everyone known, for roster and message checks. */
  async directory(): Promise<DeviceDirectory> {
    this.#directory ??= createDeviceDirectory(
      (await this.local.identities()).map((r) => ({ pin: r.pin, devices: r.devices })),
    );
    return this.#directory;
  }

  get(userId: string): Promise<IdentityRecord | undefined> {
    return this.local.getIdentity(userId);
  }

  async #save(userId: string, record: IdentityRecord): Promise<void> {
    await this.local.setIdentity(userId, record);
    this.#directory = null;
  }

  async #chain(userId: string, afterVersion: number): Promise<DeviceList[]> {
    const lists: DeviceList[] = [];
    for (let after = afterVersion; ;) {
      const page = await this.api.keys.deviceListChain.query({ userId, afterVersion: after });
      lists.push(...page.map((row) => decodeDeviceList(fromBase64Url(row.list))));
      if (page.length < 100) return lists;
      after = page[page.length - 1]!.version;
    }
  }

  /**
   * Fetches and verifies the device lists of these users (those not fetched in the last few
   * seconds, unless `force`). Returns the ids that have no published identity.
   */
  async refresh(userIds: string[], force = false): Promise<string[]> {
    const now = Date.now();
    const due = [...new Set(userIds)].filter(
      (id) => force || now - (this.#fetchedAt.get(id) ?? 0) > FRESH_MS,
    );
    if (due.length === 0) return [];
    const rows = await this.api.keys.deviceLists.query({ userIds: due });
    for (const row of rows) {
      const userId = fromHex(row.userId, 16);
      const signingKey = fromBase64Url(row.signingKey);
      const latest = decodeDeviceList(fromBase64Url(row.list));
      const known = await this.local.getIdentity(row.userId);
      if (!known) {
        const verified = await trustOnFirstUse(userId, signingKey, latest);
        await this.#save(row.userId, { ...verified, verified: false });
      } else if (!ctEqual(known.pin.uskPublicKey, signingKey)) {
        // A new identity (a reset, or a server substituting keys). For a contact the user
        // verified, stop: sending resumes only after they accept the new safety number.
        this.notify({ type: 'identity-changed', userId: row.userId, verified: known.verified });
        if (known.verified) throw new IdentityChangedError(row.userId, true);
        const verified = await trustOnFirstUse(userId, signingKey, latest);
        await this.#save(row.userId, { ...verified, verified: false });
      } else if (row.version !== known.pin.listVersion) {
        const chain =
          row.version > known.pin.listVersion
            ? await this.#chain(row.userId, known.pin.listVersion)
            : [latest];
        // A lower version is a rollback, which verifyDeviceListUpdate rejects.
        const verified = await verifyDeviceListUpdate(known.pin, chain);
        await this.#save(row.userId, { ...verified, verified: known.verified });
      }
      this.#fetchedAt.set(row.userId, now);
    }
    const found = new Set(rows.map((row) => row.userId));
    return due.filter((id) => !found.has(id));
  }

  /** Accepts a contact's changed identity (the user compared the new safety number). */
  async acceptChange(userId: string): Promise<void> {
    const rows = await this.api.keys.deviceLists.query({ userIds: [userId] });
    const row = rows[0];
    if (!row) return;
    const verified = await trustOnFirstUse(
      fromHex(userId, 16),
      fromBase64Url(row.signingKey),
      decodeDeviceList(fromBase64Url(row.list)),
    );
    await this.#save(userId, { ...verified, verified: false });
    this.#fetchedAt.set(userId, Date.now());
  }

  async markVerified(userId: string, verified: boolean): Promise<void> {
    const record = await this.local.getIdentity(userId);
    if (record) await this.#save(userId, { ...record, verified });
  }

  /** Saves this user's own identity after publishing a list. */
  async pinSelf(userId: string, uskPublicKey: Uint8Array, lists: DeviceList[]): Promise<void> {
    let verified = await trustOnFirstUse(fromHex(userId, 16), uskPublicKey, lists[0]!);
    if (lists.length > 1) verified = await verifyDeviceListUpdate(verified.pin, lists.slice(1));
    await this.#save(userId, { ...verified, verified: true });
    this.#fetchedAt.set(userId, Date.now());
  }

  /** The full published chain of a user's device lists (for recovery). */
  fullChain(userId: string): Promise<DeviceList[]> {
    return this.#chain(userId, 0);
  }
}
