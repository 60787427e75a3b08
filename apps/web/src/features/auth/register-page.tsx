import { useRef, useState, type FormEvent } from 'react';
import { Link } from 'react-router';
import { FormField } from '../../components/form-field.tsx';
import { ErrorAlert } from '../../components/status.tsx';
import { SubmitButton } from '../../components/submit-button.tsx';
import { apiErrorCode, errorMessage } from '../../lib/api-errors.ts';
import { trpc } from '../../lib/trpc.ts';
import { useFormErrors } from '../../lib/use-form-errors.ts';
import { AuthLayout } from './auth-layout.tsx';
import { PasswordRules, passwordRules } from './password-rules.tsx';

/** Account creation. The server checks every rule; the checklist only shows progress. */
export function RegisterPage() {
  const utils = trpc.useUtils();
  const formRef = useRef<HTMLFormElement>(null);
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const { errors, setFromError, setErrors, reset, clearField } = useFormErrors(formRef);

  const register = trpc.auth.register.useMutation({
    onSuccess: ({ user }) => {
      utils.auth.me.setData(undefined, user);
    },
    onError: (error) => {
      if (apiErrorCode(error) === 'CONFLICT') {
        // A taken name is about the username field, so say it there.
        setErrors({ fields: { username: [errorMessage(error)] }, message: null });
      } else {
        setFromError(error);
      }
    },
  });

  function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    if (register.isPending) return;
    reset();
    register.mutate({ username: username.trim(), password });
  }

  return (
    <AuthLayout
      title="Create your account"
      intro="Pick a username and a strong password for this SecureChat server."
      footer={
        <>
          Already have an account? <Link to="/sign-in">Sign in</Link>
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
          maxLength={32}
          value={username}
          errors={errors.fields.username}
          hint={<p>3 to 32 characters: letters, digits, and _ . -</p>}
          onChange={(event) => {
            setUsername(event.target.value);
            clearField('username');
          }}
        />
        <FormField
          label="Password"
          name="password"
          type="password"
          autoComplete="new-password"
          required
          value={password}
          errors={errors.fields.password}
          hint={<PasswordRules rules={passwordRules(password, { username: username.trim() })} />}
          onChange={(event) => {
            setPassword(event.target.value);
            clearField('password');
          }}
        />
        <SubmitButton pending={register.isPending} pendingLabel="Creating your account…">
          Create account
        </SubmitButton>
      </form>
    </AuthLayout>
  );
}
