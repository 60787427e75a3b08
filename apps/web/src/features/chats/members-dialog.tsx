import { useState, type FormEvent } from 'react';
import { useQueryClient } from '@tanstack/react-query';
import { useNavigate } from 'react-router';
import { NotSetUpError, type ConversationSummary } from '@securechat/client';
import { Dialog } from '../../components/dialog.tsx';
import { FormField } from '../../components/form-field.tsx';
import { ErrorAlert } from '../../components/status.tsx';
import { SubmitButton } from '../../components/submit-button.tsx';
import { errorMessage, fieldErrors } from '../../lib/api-errors.ts';
import { useReadyE2ee } from '../e2ee/e2ee-context.ts';
import { e2eeKeys } from '../e2ee/query-keys.ts';
import { SafetyNumberDialog } from '../e2ee/safety-number-dialog.tsx';
import { UserAvatar } from './avatar.tsx';

function describe(error: unknown): string {
  if (error instanceof NotSetUpError) {
    return 'That person has not set up encryption yet (they need to sign in once), so the group cannot be encrypted for them.';
  }
  return errorMessage(error);
}

/**
 * A group's members. Admins add and remove people (each change starts a new epoch: a removed
 * member reads nothing sent afterwards, an added one nothing sent before); anyone can leave.
 */
export function MembersDialog({
  conversation,
  open,
  onClose,
}: {
  conversation: ConversationSummary;
  open: boolean;
  onClose: () => void;
}) {
  const { client, user } = useReadyE2ee();
  const queryClient = useQueryClient();
  const navigate = useNavigate();
  const [username, setUsername] = useState('');
  const [adding, setAdding] = useState(false);
  const [busy, setBusy] = useState<string | null>(null);
  const [fieldError, setFieldError] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [confirmLeave, setConfirmLeave] = useState(false);
  const [safety, setSafety] = useState<{ id: string; username: string } | null>(null);
  const isAdmin = conversation.role === 'admin';

  const refresh = () =>
    queryClient.invalidateQueries({ queryKey: e2eeKeys.conversations(user.id) });

  async function add(event: FormEvent) {
    event.preventDefault();
    const name = username.trim().replace(/^@/, '');
    if (adding) return;
    if (!name) {
      setFieldError('Enter a username.');
      return;
    }
    setAdding(true);
    setFieldError(null);
    setError(null);
    try {
      await client.conversations.addMember(conversation.id, name);
      setUsername('');
      await refresh();
    } catch (failure) {
      const fields = fieldErrors(failure);
      const message =
        fields.username?.[0] ?? (failure instanceof NotSetUpError ? describe(failure) : null);
      if (message) setFieldError(message);
      else setError(describe(failure));
    } finally {
      setAdding(false);
    }
  }

  async function remove(name: string) {
    if (busy) return;
    setBusy(name);
    setError(null);
    try {
      await client.conversations.removeMember(conversation.id, name);
      await refresh();
    } catch (failure) {
      setError(describe(failure));
    } finally {
      setBusy(null);
    }
  }

  async function leave() {
    if (busy) return;
    setBusy('leave');
    setError(null);
    try {
      await client.conversations.leave(conversation.id);
      await refresh();
      onClose();
      void navigate('/');
    } catch (failure) {
      setError(describe(failure));
      setBusy(null);
    }
  }

  const members = [...conversation.members].sort(
    (a, b) =>
      Number(b.id === user.id) - Number(a.id === user.id) || a.username.localeCompare(b.username),
  );
  return (
    <Dialog open={open} onClose={onClose} title={`Members of ${conversation.title}`}>
      <div className="members">
        {error && <ErrorAlert>{error}</ErrorAlert>}
        <ul className="member-list">
          {members.map((member) => (
            <li key={member.id} className="member">
              <UserAvatar userId={member.id} username={member.username} />
              <span className="member-name">
                {member.id === user.id ? `${member.username} (you)` : member.username}
                {member.role === 'admin' && <span className="badge badge-neutral">Admin</span>}
              </span>
              {member.id !== user.id && (
                <span className="member-actions">
                  <button
                    type="button"
                    className="btn btn-secondary btn-small"
                    aria-label={`Safety number with ${member.username}`}
                    onClick={() => setSafety({ id: member.id, username: member.username })}
                  >
                    Safety number
                  </button>
                  {isAdmin && (
                    <button
                      type="button"
                      className="btn btn-danger btn-small"
                      aria-label={`Remove ${member.username} from the group`}
                      aria-disabled={busy !== null || undefined}
                      onClick={() => void remove(member.username)}
                    >
                      {busy === member.username && (
                        <span className="spinner spinner-small" aria-hidden="true" />
                      )}
                      Remove
                    </button>
                  )}
                </span>
              )}
            </li>
          ))}
        </ul>
        {isAdmin ? (
          <form className="form member-add" noValidate onSubmit={(event) => void add(event)}>
            <FormField
              label="Add a member"
              name="username"
              placeholder="Username"
              autoComplete="off"
              autoCapitalize="none"
              autoCorrect="off"
              spellCheck={false}
              value={username}
              errors={fieldError ? [fieldError] : undefined}
              hint={<p>They will not be able to read messages sent before they join.</p>}
              onChange={(event) => {
                setUsername(event.target.value);
                setFieldError(null);
              }}
            />
            <SubmitButton pending={adding} pendingLabel="Adding the member…" variant="secondary">
              Add member
            </SubmitButton>
          </form>
        ) : (
          <p className="card-description">Only the group’s admins can add or remove members.</p>
        )}
        <div className="members-leave">
          {confirmLeave ? (
            <div className="confirm-row" role="group" aria-label="Confirm leaving">
              <p>Leave {conversation.title}? You will not receive its new messages.</p>
              <button
                type="button"
                className="btn btn-secondary btn-small"
                onClick={() => setConfirmLeave(false)}
              >
                Stay
              </button>
              <button
                type="button"
                className="btn btn-danger btn-small"
                aria-disabled={busy !== null || undefined}
                onClick={() => void leave()}
              >
                Leave group
              </button>
            </div>
          ) : (
            <button type="button" className="btn btn-danger" onClick={() => setConfirmLeave(true)}>
              Leave group…
            </button>
          )}
        </div>
      </div>
      {safety && (
        <SafetyNumberDialog
          contactId={safety.id}
          username={safety.username}
          open
          onClose={() => setSafety(null)}
        />
      )}
    </Dialog>
  );
}
