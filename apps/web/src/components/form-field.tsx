import { useId, type InputHTMLAttributes, type ReactNode } from 'react';

export interface FormFieldProps extends Omit<
  InputHTMLAttributes<HTMLInputElement>,
  'id' | 'aria-invalid' | 'aria-describedby'
> {
  label: string;
  name: string;
  /** Messages from the server for this field; the first is shown. */
  errors?: readonly string[] | undefined;
  /** Guidance shown under the input and read with it (e.g. the password rules). */
  hint?: ReactNode;
}

/**
 * A labelled input whose hint and error are tied to it with `aria-describedby`, and which reports
 * `aria-invalid` while it has an error, so a screen reader announces both on focus.
 */
export function FormField({ label, name, errors, hint, className, ...inputProps }: FormFieldProps) {
  const id = useId();
  const hintId = `${id}-hint`;
  const errorId = `${id}-error`;
  const error = errors?.[0];
  const describedBy = [hint ? hintId : null, error ? errorId : null].filter(Boolean).join(' ');
  return (
    <div className={['field', error ? 'field-invalid' : null, className].filter(Boolean).join(' ')}>
      <label className="field-label" htmlFor={id}>
        {label}
      </label>
      <input
        id={id}
        name={name}
        className="field-input"
        aria-invalid={error ? true : undefined}
        aria-describedby={describedBy || undefined}
        {...inputProps}
      />
      {error && (
        <p id={errorId} className="field-error">
          {error}
        </p>
      )}
      {hint && (
        <div id={hintId} className="field-hint">
          {hint}
        </div>
      )}
    </div>
  );
}

/**
 * A field for a code or key typed by hand (a recovery key, a link code): monospace, and kept as
 * typed, without the browser capitalising, correcting or remembering it.
 */
export function CodeField(props: FormFieldProps) {
  return (
    <FormField
      className="field-monospace"
      autoComplete="off"
      autoCapitalize="characters"
      autoCorrect="off"
      spellCheck={false}
      {...props}
    />
  );
}
