import { useRef, useState, type FormEvent } from 'react';
import { Link } from 'react-router';
import { FormField } from '../../components/form-field.tsx';
import { ErrorAlert } from '../../components/status.tsx';
import { SubmitButton } from '../../components/submit-button.tsx';

import { trpc } from '../../lib/trpc.ts';
import { useFormErrors } from '../../lib/use-form-errors.ts';
import { AuthLayout } from './auth-layout.tsx';

/** Sign-in with username and password; the server sets the session cookie. */
export function SignInPage() {
  const utils = trpc.useUtils();
  const formRef = useRef<HTMLFormElement>(null);
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const { errors, setFromError, reset, clearField } = useFormErrors(formRef);

  const login = trpc.auth.login.useMutation({
    onSuccess: ({ user }) => {
      // Recording the user in the cache is what moves the route guard on into the app.
      utils.auth.me.setData(undefined, user);
    },
    onError: (error) => {
      setFromError(error);
    },
  });

  function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    if (login.isPending) return;
    reset();
    login.mutate({ username: username.trim(), password });
  }

  return (
    <AuthLayout
      title="Sign in"
      intro="Welcome back. Sign in to continue to your conversations."
      footer={
        <>
          New to this server? <Link to="/register">Create an account</Link>
        </>
      }
    >
      <form ref={formRef} className="form" noValidate onSubmit={onSubmit}>
        {errors.message && <ErrorAlert>{errors.message}</ErrorAlert>}
        <FormField
          label="Username"
          name="username"
          autoComplete="username"
          autoCapitalize="none"
          autoCorrect="off"
          spellCheck={false}
          required
          value={username}
          errors={errors.fields.username}
          onChange={(event) => {
            setUsername(event.target.value);
            clearField('username');
          }}
        />
        <FormField
          label="Password"
          name="password"
          type="password"
          autoComplete="current-password"
          required
          value={password}
          errors={errors.fields.password}
          onChange={(event) => {
            setPassword(event.target.value);
            clearField('password');
          }}
        />
        <SubmitButton pending={login.isPending} pendingLabel="Signing in…">
          Sign in
        </SubmitButton>
      </form>
    </AuthLayout>
  );
}
