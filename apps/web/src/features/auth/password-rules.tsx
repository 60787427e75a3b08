import { CheckIcon, CircleIcon, InfoIcon } from '../../components/icons.tsx';

// The server is the authority (apps/api/src/auth/password.ts and routers/auth/*); these mirror its
// rules only to show progress while typing, and the server's field errors win on submit.
export const PASSWORD_MIN = 10;
export const PASSWORD_MAX = 256;

type RuleState = 'met' | 'unmet' | 'info';

export interface PasswordRule {
  id: string;
  label: string;
  state: RuleState;
}

/** The rules a new password must meet, each with whether `password` meets it yet. */
export function passwordRules(
  password: string,
  context: { username?: string; current?: string },
): PasswordRule[] {
  const length = [...password].length;
  const rules: PasswordRule[] = [
    {
      id: 'length',
      label: `${PASSWORD_MIN} to ${PASSWORD_MAX} characters`,
      state: length >= PASSWORD_MIN && length <= PASSWORD_MAX ? 'met' : 'unmet',
    },
  ];
  if (context.username !== undefined) {
    const username = context.username.trim().toLowerCase();
    rules.push({
      id: 'username',
      label: 'Does not contain your username',
      state:
        password.length > 0 && username.length > 0 && !password.toLowerCase().includes(username)
          ? 'met'
          : 'unmet',
    });
  }
  if (context.current !== undefined) {
    rules.push({
      id: 'different',
      label: 'Differs from your current password',
      state: password.length > 0 && password !== context.current ? 'met' : 'unmet',
    });
  }
  rules.push({
    id: 'common',
    label: 'Common, easily guessed passwords are refused',
    state: 'info',
  });
  return rules;
}

const STATE_TEXT: Record<RuleState, string> = {
  met: 'Done: ',
  unmet: 'Not yet: ',
  info: '',
};

/** The rules as a checklist that updates as the user types; state is in text, not only colour. */
export function PasswordRules({ rules }: { rules: PasswordRule[] }) {
  return (
    <div className="password-rules">
      <p className="password-rules-title">Your password needs:</p>
      <ul>
        {rules.map((rule) => (
          <li key={rule.id} className={`rule rule-${rule.state}`}>
            {rule.state === 'met' ? (
              <CheckIcon className="rule-icon" />
            ) : rule.state === 'unmet' ? (
              <CircleIcon className="rule-icon" />
            ) : (
              <InfoIcon className="rule-icon" />
            )}
            <span>
              {STATE_TEXT[rule.state] && <span className="sr-only">{STATE_TEXT[rule.state]}</span>}
              {rule.label}
            </span>
          </li>
        ))}
      </ul>
      <p className="password-rules-tip">
        A few unrelated words make a long password that is easy to remember.
      </p>
    </div>
  );
}
