import { useImperativeHandle, useRef, useState, type FormEvent, type Ref } from 'react';
import type { ChatMessage } from '@securechat/client';
import { PaperclipIcon, SendIcon } from '../../components/icons.tsx';

export type ComposerMode =
  | { kind: 'reply'; message: ChatMessage; senderLabel: string }
  | { kind: 'edit'; message: ChatMessage };

export interface ComposerHandle {
  focus(): void;
}

const MAX_HEIGHT = 200;

function snippet(text: string): string {
  return text.length > 80 ? `${text.slice(0, 79)}…` : text;
}

/**
 * The message box. Enter sends, Shift+Enter starts a new line, Escape leaves reply or edit mode.
 * It grows with its text up to a limit, then scrolls.
 */
export function Composer({
  ref,
  placeholder,
  mode,
  onCancelMode,
  onSend,
  onSaveEdit,
  onTyping,
  onAttach,
}: {
  ref?: Ref<ComposerHandle>;
  placeholder: string;
  mode: ComposerMode | null;
  onCancelMode: () => void;
  onSend: (text: string, replyTo: string | undefined) => void;
  onSaveEdit: (message: ChatMessage, text: string) => void;
  onTyping: () => void;
  /** Files picked, pasted (or dropped on the conversation): sent as encrypted file messages. */
  onAttach?: (files: File[]) => void;
}) {
  const textarea = useRef<HTMLTextAreaElement>(null);
  const fileInput = useRef<HTMLInputElement>(null);
  const [draft, setDraft] = useState('');
  const [editText, setEditText] = useState('');
  const [editingId, setEditingId] = useState<string | null>(null);
  const editing = mode?.kind === 'edit' ? mode.message : null;

  // Entering edit mode fills the box with the message; the draft waits for the edit to end.
  if ((editing?.id ?? null) !== editingId) {
    setEditingId(editing?.id ?? null);
    setEditText(editing?.text ?? '');
  }
  const text = editing ? editText : draft;
  const setText = editing ? setEditText : setDraft;

  useImperativeHandle(ref, () => ({ focus: () => textarea.current?.focus() }), []);

  function resize() {
    const element = textarea.current;
    if (!element) return;
    element.style.height = 'auto';
    element.style.height = `${Math.min(element.scrollHeight, MAX_HEIGHT)}px`;
  }

  function submit(event?: FormEvent) {
    event?.preventDefault();
    const value = text.trim();
    if (!value) return;
    if (editing) {
      if (value !== editing.text) onSaveEdit(editing, value);
      onCancelMode();
    } else {
      onSend(value, mode?.kind === 'reply' ? mode.message.id : undefined);
      setDraft('');
      if (mode) onCancelMode();
    }
    requestAnimationFrame(resize);
    textarea.current?.focus();
  }

  return (
    <form className="composer" onSubmit={submit}>
      {mode && (
        <div className="composer-context">
          <p className="composer-context-text">
            {mode.kind === 'edit' ? (
              <strong>Editing message</strong>
            ) : (
              <>
                <strong>Replying to {mode.senderLabel}:</strong> {snippet(mode.message.text)}
              </>
            )}
          </p>
          <button
            type="button"
            className="icon-button icon-button-small"
            aria-label={mode.kind === 'edit' ? 'Cancel edit' : 'Cancel reply'}
            onClick={() => {
              onCancelMode();
              textarea.current?.focus();
            }}
          >
            <span aria-hidden="true">×</span>
          </button>
        </div>
      )}
      <div className="composer-row">
        {onAttach && !editing && (
          <>
            <input
              ref={fileInput}
              type="file"
              multiple
              className="sr-only"
              tabIndex={-1}
              aria-hidden="true"
              data-testid="attach-input"
              onChange={(event) => {
                const files = [...(event.target.files ?? [])];
                event.target.value = '';
                if (files.length > 0) onAttach(files);
              }}
            />
            <button
              type="button"
              className="icon-button attach-button"
              aria-label="Attach file"
              title="Attach file"
              onClick={() => fileInput.current?.click()}
            >
              <PaperclipIcon />
            </button>
          </>
        )}
        <textarea
          ref={textarea}
          className="composer-input"
          aria-label="Message composer"
          placeholder={placeholder}
          rows={1}
          value={text}
          maxLength={20_000}
          onChange={(event) => {
            setText(event.target.value);
            resize();
            if (!editing && event.target.value) onTyping();
          }}
          onPaste={(event) => {
            const files = [...event.clipboardData.files];
            if (files.length > 0 && onAttach && !editing) {
              event.preventDefault();
              onAttach(files);
            }
          }}
          onKeyDown={(event) => {
            if (event.key === 'Enter' && !event.shiftKey && !event.nativeEvent.isComposing) {
              event.preventDefault();
              submit();
            } else if (event.key === 'Escape' && mode) {
              event.preventDefault();
              onCancelMode();
            }
          }}
        />
        <button
          type="submit"
          className="send-button"
          aria-label={editing ? 'Save edit' : 'Send message'}
          title={editing ? 'Save edit' : 'Send'}
        >
          <SendIcon />
        </button>
      </div>
    </form>
  );
}
