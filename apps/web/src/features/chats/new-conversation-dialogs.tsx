import { useState, type FormEvent } from 'react';
import { useQueryClient } from '@tanstack/react-query';
import { useNavigate } from 'react-router';
import { NotSetUpError } from '@securechat/client';
import { Dialog } from '../../components/dialog.tsx';
import { FormField } from '../../components/form-field.tsx';
import { ErrorAlert } from '../../components/status.tsx';
import { SubmitButton } from '../../components/submit-button.tsx';
import { errorMessage, fieldErrors } from '../../lib/api-errors.ts';
import { useReadyE2ee } from '../e2ee/e2ee-context.ts';
import { e2eeKeys } from '../e2ee/query-keys.ts';

/** Usernames typed with commas, spaces or new lines between them. */
export function parseUsernames(text: string): string[] {
  return [...new Set(text.split(/[\s,;]+/).map((name) => name.trim().replace(/^@/, '')))].filter(
    Boolean,
  );
}

/** Starts (or reopens) the direct conversation with a user, or the user's own notes. */
export function NewConversationDialog({ open, onClose }: { open: boolean; onClose: () => void }) {
  const { client, user } = useReadyE2ee();
  const queryClient = useQueryClient();
  const navigate = useNavigate();
  const [username, setUsername] = useState('');
  const [pending, setPending] = useState(false);
  const [fieldError, setFieldError] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);

  async function opened(id: string) {
    await queryClient.invalidateQueries({ queryKey: e2eeKeys.conversations(user.id) });
    setUsername('');
    onClose();
    void navigate(`/c/${id}`);
  }

  async function start(event: FormEvent) {
    event.preventDefault();
    if (pending) return;
    const name = username.trim().replace(/^@/, '');
    if (!name) {
      setFieldError('Enter the username of the person to message.');
      return;
    }
    setPending(true);
    setError(null);
    setFieldError(null);
    try {
      const { id } = await client.conversations.openDirect(name);
      await opened(id);
    } catch (failure) {
      const fields = fieldErrors(failure);
      if (fields.username?.[0]) setFieldError(fields.username[0]);
      else setError(errorMessage(failure));
    } finally {
      setPending(false);
    }
  }

  async function openNotes() {
    if (pending) return;
    setPending(true);
    try {
      const { id } = await client.conversations.openNotes();
      await opened(id);
    } catch (failure) {
      setError(errorMessage(failure));
    } finally {
      setPending(false);
    }
  }

  return (
    <Dialog
      open={open}
      onClose={onClose}
      title="New conversation"
      description="Messages are end-to-end encrypted for the two of you."
    >
      <form className="form" noValidate onSubmit={(event) => void start(event)}>
        {error && <ErrorAlert>{error}</ErrorAlert>}
        <FormField
          label="Username"
          name="username"
          autoComplete="off"
          autoCapitalize="none"
          autoCorrect="off"
          spellCheck={false}
          autoFocus
          value={username}
          errors={fieldError ? [fieldError] : undefined}
          onChange={(event) => {
            setUsername(event.target.value);
            setFieldError(null);
          }}
        />
        <div className="dialog-actions">
          <button type="button" className="btn btn-secondary" onClick={() => void openNotes()}>
            Open my notes
          </button>
          <SubmitButton pending={pending} pendingLabel="Opening the conversation…">
            Start conversation
          </SubmitButton>
        </div>
      </form>
    </Dialog>
  );
}

/** Creates a group with the signed-in user as admin; its name travels encrypted. */
export function NewGroupDialog({ open, onClose }: { open: boolean; onClose: () => void }) {
  const { client, user } = useReadyE2ee();
  const queryClient = useQueryClient();
  const navigate = useNavigate();
  const [title, setTitle] = useState('');
  const [members, setMembers] = useState('');
  const [pending, setPending] = useState(false);
  const [errors, setErrors] = useState<{ title?: string; members?: string; form?: string }>({});

  async function create(event: FormEvent) {
    event.preventDefault();
    if (pending) return;
    const names = parseUsernames(members).filter(
      (name) => name.toLowerCase() !== user.username.toLowerCase(),
    );
    const next: typeof errors = {};
    if (!title.trim()) next.title = 'Give the group a name.';
    if (names.length === 0) next.members = 'Add at least one member by username.';
    setErrors(next);
    if (next.title || next.members) return;
    setPending(true);
    try {
      const { id } = await client.conversations.createGroup({
        title: title.trim(),
        members: names,
      });
      await queryClient.invalidateQueries({ queryKey: e2eeKeys.conversations(user.id) });
      setTitle('');
      setMembers('');
      onClose();
      void navigate(`/c/${id}`);
    } catch (failure) {
      const fields = fieldErrors(failure);
      if (fields.members?.[0]) setErrors({ members: fields.members[0] });
      else if (failure instanceof NotSetUpError)
        setErrors({
          form: 'A member has not set up encryption yet (they need to sign in once), so the group cannot be encrypted for them.',
        });
      else setErrors({ form: errorMessage(failure) });
    } finally {
      setPending(false);
    }
  }

  return (
    <Dialog
      open={open}
      onClose={onClose}
      title="New group"
      description="You become the group’s admin. Its name is encrypted like the messages."
    >
      <form className="form" noValidate onSubmit={(event) => void create(event)}>
        {errors.form && <ErrorAlert>{errors.form}</ErrorAlert>}
        <FormField
          label="Group name"
          name="title"
          autoComplete="off"
          maxLength={100}
          autoFocus
          value={title}
          errors={errors.title ? [errors.title] : undefined}
          onChange={(event) => setTitle(event.target.value)}
        />
        <FormField
          label="Members"
          name="members"
          autoComplete="off"
          autoCapitalize="none"
          autoCorrect="off"
          spellCheck={false}
          value={members}
          errors={errors.members ? [errors.members] : undefined}
          hint={<p>Usernames, separated by commas or spaces.</p>}
          onChange={(event) => setMembers(event.target.value)}
        />
        <div className="dialog-actions">
          <button type="button" className="btn btn-secondary" onClick={onClose}>
            Cancel
          </button>
          <SubmitButton pending={pending} pendingLabel="Creating the group…">
            Create group
          </SubmitButton>
        </div>
      </form>
    </Dialog>
  );
}
