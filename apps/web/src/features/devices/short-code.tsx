import { useId } from 'react';
import { CopiedStatus } from '../../components/copy-status.tsx';
import { useClipboard } from '../../lib/use-clipboard.ts';
import { groupCode } from './code-format.ts';

/**
 * The short code in large monospace groups, with a copy button. The groups are one `output` so a
 * screen reader reads the whole code, letter by letter thanks to the spacing.
 */
export function ShortCode({ code, label }: { code: string; label: string }) {
  const labelId = useId();
  const clipboard = useClipboard();
  const groups = groupCode(code);

  return (
    <div className="short-code-box">
      <p id={labelId} className="recovery-key-label">
        {label}
      </p>
      <output className="short-code" aria-labelledby={labelId}>
        {groups.map((group, index) => (
          <span key={index} className="short-code-group">
            {group}
            {index < groups.length - 1 ? ' ' : ''}
          </span>
        ))}
      </output>
      <div className="button-row">
        <button
          type="button"
          className="btn btn-secondary btn-small"
          onClick={() => void clipboard.copy(groups.join(' '))}
        >
          Copy code
        </button>
        <CopiedStatus state={clipboard.state} />
      </div>
      {clipboard.state === 'failed' && (
        <p role="alert" className="field-error">
          This browser did not allow copying. Select the code and copy it, or type it.
        </p>
      )}
    </div>
  );
}
