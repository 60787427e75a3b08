import { createContext, useContext } from 'react';
import type { ClientEvent, DeviceStatus, SecureChatClient } from '@securechat/client';
import type { SessionUser } from '../auth/use-session.ts';
import type { Outbox } from '../chats/outbox.ts';
import type { TabLockState } from './tab-lock.ts';
import type { TypingStore } from './typing-store.ts';

/** A contact whose identity changed; for a verified one, sending to them is blocked. */
export interface IdentityAlert {
  userId: string;
  verified: boolean;
}

export interface E2eeState {
  user: SessionUser;
  /** Why this browser cannot do end-to-end encryption at all, or null. */
  unsupported: string | null;
  lock: TabLockState;
  takeOverTab: () => void;
  /** The client, while this tab holds the device's keys. */
  client: SecureChatClient | null;
  /** 'checking' until the device's state is known; 'error' when it could not be asked. */
  status: DeviceStatus | 'checking' | 'error';
  statusError: unknown;
  recheckStatus: () => void;
  /** A recovery key just made (setup or reset), shown until the user confirms they saved it. */
  pendingRecoveryKey: string | null;
  setPendingRecoveryKey: (key: string | null) => void;
  /** Marks the device set up (after setup or recovery) without asking the server again. */
  markReady: () => void;
  /** Decrypted events, for components that react to them (typing, notifications). */
  subscribe: (listener: (event: ClientEvent) => void) => () => void;
  typing: TypingStore;
  /** This device's messages on their way to the server, shown before the server has them. */
  outbox: Outbox;
  identityAlerts: IdentityAlert[];
  dismissIdentityAlert: (userId: string) => void;
  /** Set while the live event stream is failing (the app retries by itself). */
  streamProblem: string | null;
}

export const E2eeContext = createContext<E2eeState | null>(null);

/** The end-to-end state of the signed-in user (inside RequireSession). */
export function useE2ee(): E2eeState {
  const value = useContext(E2eeContext);
  if (!value) throw new Error('useE2ee must be used inside <E2eeProvider>');
  return value;
}

/** The end-to-end state where the device is known to be ready: the client is there. */
export function useReadyE2ee(): E2eeState & { client: SecureChatClient } {
  const value = useE2ee();
  if (!value.client || value.status !== 'ready') {
    throw new Error('useReadyE2ee must be used only once the device is ready');
  }
  return value as E2eeState & { client: SecureChatClient };
}
