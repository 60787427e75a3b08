import { useId, type ReactNode } from 'react';

/** A labelled on/off switch with a description read along with it. */
export function ToggleField({
  label,
  description,
  checked,
  disabled,
  onChange,
}: {
  label: string;
  description: ReactNode;
  checked: boolean;
  disabled?: boolean;
  onChange: (checked: boolean) => void;
}) {
  const id = useId();
  return (
    <div className="toggle-field">
      <input
        id={id}
        type="checkbox"
        role="switch"
        className="toggle-input"
        checked={checked}
        disabled={disabled}
        aria-describedby={`${id}-description`}
        onChange={(event) => onChange(event.target.checked)}
      />
      <div className="toggle-text">
        <label htmlFor={id} className="toggle-label">
          {label}
        </label>
        <p id={`${id}-description`} className="toggle-description">
          {description}
        </p>
      </div>
    </div>
  );
}
