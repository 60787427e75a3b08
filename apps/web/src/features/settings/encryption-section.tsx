import { useState } from 'react';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { Link } from 'react-router';
import { Card } from '../../components/card.tsx';
import { Dialog } from '../../components/dialog.tsx';
import { ShieldIcon } from '../../components/icons.tsx';
import { ErrorAlert, SkeletonList } from '../../components/status.tsx';
import { ActionButton } from '../../components/submit-button.tsx';
import { errorMessage } from '../../lib/api-errors.ts';
import { usePendingAction } from '../../lib/use-pending-action.ts';
import { UserAvatar } from '../chats/avatar.tsx';
import { useConversations } from '../chats/use-conversations.ts';
import { useE2ee, useReadyE2ee } from '../e2ee/e2ee-context.ts';
import { e2eeKeys } from '../e2ee/query-keys.ts';
import { SafetyNumberDialog } from '../e2ee/safety-number-dialog.tsx';
import { KeyBackupCard } from '../devices/key-backup-card.tsx';

function ContactRow({
  contact,
  onShow,
}: {
  contact: { id: string; username: string };
  onShow: () => void;
}) {
  const { client, user } = useReadyE2ee();
  const status = useQuery({
    queryKey: [...e2eeKeys.contact(user.id, contact.id), 'status'],
    queryFn: () => client.contacts.status(contact.id),
    staleTime: 30_000,
  });
  return (
    <li className="contact">
      <UserAvatar userId={contact.id} username={contact.username} />
      <span className="contact-name">
        {contact.username}
        {status.data?.identityChanged ? (
          <span className="badge badge-warning">Safety number changed</span>
        ) : status.data?.verified ? (
          <span className="badge badge-verified">
            <ShieldIcon width={14} height={14} /> Verified
          </span>
        ) : null}
      </span>
      <button
        type="button"
        className="btn btn-secondary btn-small"
        aria-label={`Safety number with ${contact.username}`}
        onClick={onShow}
      >
        Safety number
      </button>
    </li>
  );
}

function SafetyNumbersCard() {
  const { user } = useReadyE2ee();
  const conversations = useConversations();
  const [open, setOpen] = useState<{ id: string; username: string } | null>(null);
  const contacts = new Map<string, string>();
  for (const conversation of conversations.data?.items ?? []) {
    for (const member of conversation.members) {
      if (member.id !== user.id) contacts.set(member.id, member.username);
    }
  }
  const sorted = [...contacts].sort((a, b) => a[1].localeCompare(b[1]));
  return (
    <Card
      title="Safety numbers"
      description="Compare your safety number with each contact, in person or over another channel you trust, then mark them verified. If a verified contact’s number changes, SecureChat stops sending to them until you look at the new one."
    >
      {conversations.isPending ? (
        <SkeletonList label="Loading contacts" rows={2} />
      ) : conversations.error && !conversations.data ? (
        <ErrorAlert onRetry={() => void conversations.refetch()}>
          {errorMessage(conversations.error)}
        </ErrorAlert>
      ) : sorted.length === 0 ? (
        <p className="settings-note">
          No contacts yet: people you share a conversation with appear here.
        </p>
      ) : (
        <ul className="contact-list">
          {sorted.map(([id, username]) => (
            <ContactRow
              key={id}
              contact={{ id, username }}
              onShow={() => setOpen({ id, username })}
            />
          ))}
        </ul>
      )}
      {open && (
        <SafetyNumberDialog
          contactId={open.id}
          username={open.username}
          open
          onClose={() => setOpen(null)}
        />
      )}
    </Card>
  );
}

function LocalHistoryCard() {
  const { client, user } = useReadyE2ee();
  const queryClient = useQueryClient();
  const [confirming, setConfirming] = useState(false);
  const [done, setDone] = useState<string | null>(null);
  const { pending, error, run } = usePendingAction();

  async function clearAll() {
    await run(async () => {
      await client.localHistory.clear();
      await queryClient.invalidateQueries({ queryKey: e2eeKeys.all(user.id) });
      setConfirming(false);
      setDone('Local history cleared on this browser.');
    });
  }

  return (
    <Card
      title="History on this browser"
      description="Each message can be decrypted only once per device, so this browser keeps what it has decrypted, in its own storage (IndexedDB). That is what shows your history at once, lets you read it offline, and what search looks through."
    >
      <p className="settings-note">
        The saved messages are encrypted with a key made on this browser that cannot be exported, so
        a copy of the browser’s files (a backup, another program reading its folder) does not reveal
        them. It does not protect against someone who can use this browser while you are signed in,
        or against malicious software in it.
      </p>
      {error && <ErrorAlert>{error}</ErrorAlert>}
      <div className="form-actions">
        <button
          type="button"
          className="btn btn-danger btn-block-phone"
          onClick={() => setConfirming(true)}
        >
          Clear all local history…
        </button>
        <p role="status" className="form-success">
          {done}
        </p>
      </div>
      <Dialog
        open={confirming}
        onClose={() => setConfirming(false)}
        title="Clear all local history?"
        description="Deletes every decrypted message this browser holds, in all conversations."
      >
        <div className="form">
          <p className="card-description">
            They cannot be downloaded again: the server only has ciphertext this browser has already
            used its keys on. New messages still arrive. Your other devices and the people you talk
            to keep their copies.
          </p>
          <div className="dialog-actions">
            <button
              type="button"
              className="btn btn-secondary"
              onClick={() => setConfirming(false)}
            >
              Cancel
            </button>
            <ActionButton pending={pending} onClick={() => void clearAll()}>
              Clear all history on this browser
            </ActionButton>
          </div>
        </div>
      </Dialog>
    </Card>
  );
}

/**
 * End-to-end encryption on this browser: safety numbers, key backup (and its passphrase), and the
 * history kept here.
 */
export function EncryptionSections() {
  const { status, client } = useE2ee();
  if (status !== 'ready' || !client) {
    return (
      <Card
        title="End-to-end encryption"
        description={
          <>
            Not set up on this browser yet. Go to <Link to="/">Chats</Link> to set it up; safety
            numbers, key backup and local history appear here afterwards.
          </>
        }
      />
    );
  }
  return (
    <>
      <SafetyNumbersCard />
      <KeyBackupCard />
      <LocalHistoryCard />
    </>
  );
}
