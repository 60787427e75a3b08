import { useRef, useState, type FormEvent } from 'react';
import { Card } from '../../components/card.tsx';
import { FormField } from '../../components/form-field.tsx';
import { ErrorAlert } from '../../components/status.tsx';
import { SubmitButton } from '../../components/submit-button.tsx';

import { trpc } from '../../lib/trpc.ts';
import { useFormErrors } from '../../lib/use-form-errors.ts';
import { PasswordRules, passwordRules } from '../auth/password-rules.tsx';

function endedSummary(count: number): string {
  if (count === 0) return 'Password changed.';
  return `Password changed. ${count} other ${count === 1 ? 'session was' : 'sessions were'} signed out.`;
}

/** Changing the password ends every other session, so the form says so before and after. */
export function ChangePasswordSection({ username }: { username: string }) {
  const utils = trpc.useUtils();
  const formRef = useRef<HTMLFormElement>(null);
  const [current, setCurrent] = useState('');
  const [next, setNext] = useState('');
  const [done, setDone] = useState<string | null>(null);
  const { errors, setFromError, reset, clearField } = useFormErrors(formRef);

  const change = trpc.auth.changePassword.useMutation({
    onSuccess: ({ endedSessions }) => {
      setCurrent('');
      setNext('');
      setDone(endedSummary(endedSessions));
      void utils.auth.sessions.list.invalidate();
    },
    onError: (error) => {
      setFromError(error);
    },
  });

  function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    if (change.isPending) return;
    reset();
    setDone(null);
    change.mutate({ current, next });
  }

  return (
    <Card
      title="Change password"
      description="Every other session is signed out when your password changes; this one stays signed in."
    >
      <form ref={formRef} className="form" noValidate onSubmit={onSubmit}>
        {/* Lets password managers file the new password under the right account. */}
        <input
          type="text"
          name="username"
          autoComplete="username"
          value={username}
          readOnly
          hidden
        />
        {errors.message && <ErrorAlert>{errors.message}</ErrorAlert>}
        <FormField
          label="Current password"
          name="current"
          type="password"
          autoComplete="current-password"
          required
          value={current}
          errors={errors.fields.current}
          onChange={(event) => {
            setCurrent(event.target.value);
            clearField('current');
          }}
        />
        <FormField
          label="New password"
          name="next"
          type="password"
          autoComplete="new-password"
          required
          value={next}
          errors={errors.fields.next}
          hint={<PasswordRules rules={passwordRules(next, { current })} />}
          onChange={(event) => {
            setNext(event.target.value);
            clearField('next');
          }}
        />
        <div className="form-actions">
          <SubmitButton pending={change.isPending} pendingLabel="Changing password…">
            Change password
          </SubmitButton>
          <p role="status" className="form-success">
            {done}
          </p>
        </div>
      </form>
    </Card>
  );
}
