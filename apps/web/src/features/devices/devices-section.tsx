import { useRef, useState, type FormEvent } from 'react';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { Link } from 'react-router';
import { DEVICE_NAME_MAX, type DeviceInfo } from '@securechat/client';
import { Card } from '../../components/card.tsx';
import { ConfirmDialog } from '../../components/confirm-dialog.tsx';
import { Dialog } from '../../components/dialog.tsx';
import { FormField } from '../../components/form-field.tsx';
import { AlertIcon, DesktopIcon, EditIcon, PhoneIcon, PlusIcon } from '../../components/icons.tsx';
import { RelativeTime } from '../../components/relative-time.tsx';
import { EmptyState, ErrorAlert, SkeletonList } from '../../components/status.tsx';
import { SubmitButton } from '../../components/submit-button.tsx';
import { errorMessage } from '../../lib/api-errors.ts';
import { useNow } from '../../lib/time.ts';
import { useFormErrors } from '../../lib/use-form-errors.ts';
import { usePendingAction } from '../../lib/use-pending-action.ts';
import { useE2ee, useReadyE2ee } from '../e2ee/e2ee-context.ts';
import { e2eeKeys } from '../e2ee/query-keys.ts';
import { LinkDeviceDialog } from './link-device-dialog.tsx';

/** A guess from the name (e.g. "Chrome on Android"), only to pick an icon. */
function looksMobile(name: string): boolean {
  return /\b(?:Android|iOS|iPhone|iPad|phone)\b/i.test(name);
}

function RenameDeviceDialog({
  device,
  onClose,
}: {
  device: DeviceInfo | null;
  onClose: () => void;
}) {
  const { client, user } = useReadyE2ee();
  const queryClient = useQueryClient();
  const form = useRef<HTMLFormElement>(null);
  const { errors, setFromError, setErrors, clearField, reset } = useFormErrors(form);
  const [name, setName] = useState(device?.name ?? '');
  const [pending, setPending] = useState(false);

  async function submit(event: FormEvent) {
    event.preventDefault();
    if (!device || pending) return;
    const trimmed = name.trim();
    if (!trimmed) {
      setErrors({ fields: { name: ['Enter a name for this device.'] }, message: null });
      return;
    }
    setPending(true);
    reset();
    try {
      await client.devices.rename(device.id, trimmed);
      await queryClient.invalidateQueries({ queryKey: e2eeKeys.devices(user.id) });
      onClose();
    } catch (error) {
      setFromError(error);
    } finally {
      setPending(false);
    }
  }

  return (
    <Dialog
      open={device !== null}
      onClose={() => {
        if (!pending) onClose();
      }}
      title="Rename device"
      description="The name is shown only to you, in this list and when you link devices."
    >
      <form ref={form} className="form" noValidate onSubmit={(event) => void submit(event)}>
        {errors.message && <ErrorAlert>{errors.message}</ErrorAlert>}
        <FormField
          label="Device name"
          name="name"
          value={name}
          maxLength={DEVICE_NAME_MAX}
          autoComplete="off"
          errors={errors.fields.name}
          hint={<p>Up to {DEVICE_NAME_MAX} characters, e.g. “Work laptop”.</p>}
          onChange={(event) => {
            setName(event.target.value);
            clearField('name');
          }}
        />
        <div className="dialog-actions">
          <button type="button" className="btn btn-secondary" onClick={onClose}>
            Cancel
          </button>
          <SubmitButton pending={pending} pendingLabel="Renaming…">
            Save name
          </SubmitButton>
        </div>
      </form>
    </Dialog>
  );
}

function RevokeDeviceDialog({
  device,
  onClose,
}: {
  device: DeviceInfo | null;
  onClose: (result?: string) => void;
}) {
  const { client, user } = useReadyE2ee();
  const queryClient = useQueryClient();
  const { pending, error, run } = usePendingAction();

  async function revoke() {
    if (!device) return;
    await run(async () => {
      const { failed } = await client.devices.revoke(device.id);
      await queryClient.invalidateQueries({ queryKey: e2eeKeys.devices(user.id) });
      void queryClient.invalidateQueries({ queryKey: e2eeKeys.conversations(user.id) });
      onClose(
        failed > 0
          ? `${device.name} was removed. ${failed} conversation${failed === 1 ? '' : 's'} could not get new keys yet; they get them with your next message there.`
          : `${device.name} was removed and every conversation has new keys.`,
      );
    });
  }

  return (
    <ConfirmDialog
      open={device !== null}
      onClose={() => onClose()}
      title={`Remove ${device?.name ?? 'device'}?`}
      description="Do this for a device you lost, gave away or do not recognise."
      confirmLabel="Remove device"
      pendingLabel="Removing the device and giving your conversations new keys…"
      pending={pending}
      error={error}
      onConfirm={() => void revoke()}
    >
      <div className="warning-box">
        <AlertIcon className="alert-icon" />
        <ul className="warning-list">
          <li>Its sessions end at once: it is signed out.</li>
          <li>
            Every conversation you are in gets new encryption keys before your next message, so it
            cannot decrypt anything sent from now on.
          </li>
          <li>
            What it already decrypted stays on it. To use it again, it must be linked or unlocked
            with your recovery key.
          </li>
        </ul>
      </div>
    </ConfirmDialog>
  );
}

function DeviceList() {
  const { client, user } = useReadyE2ee();
  const now = useNow();
  const devices = useQuery({
    queryKey: e2eeKeys.devices(user.id),
    queryFn: () => client.devices.list(),
    // "Last seen" moves while the page is open.
    refetchInterval: 60_000,
  });
  const [renaming, setRenaming] = useState<DeviceInfo | null>(null);
  const [revoking, setRevoking] = useState<DeviceInfo | null>(null);
  const [linking, setLinking] = useState(false);
  const [notice, setNotice] = useState<string | null>(null);

  const rows = [...(devices.data ?? [])].sort(
    (a, b) =>
      Number(b.current) - Number(a.current) || a.createdAt.getTime() - b.createdAt.getTime(),
  );

  return (
    <>
      <div className="form-actions">
        <button
          type="button"
          className="btn btn-primary btn-block-phone"
          onClick={() => {
            setNotice(null);
            setLinking(true);
          }}
        >
          <PlusIcon />
          Link a new device
        </button>
        <p role="status" className="form-success">
          {notice}
        </p>
      </div>
      {devices.isPending ? (
        <SkeletonList label="Loading devices" />
      ) : devices.error && !devices.data ? (
        <ErrorAlert onRetry={() => void devices.refetch()}>
          Could not load your devices. {errorMessage(devices.error)}
        </ErrorAlert>
      ) : rows.length === 0 ? (
        <EmptyState icon={<DesktopIcon />} title="No devices" headingLevel={3}>
          <p>No device holds your encryption keys.</p>
        </EmptyState>
      ) : (
        <ul className="session-list" aria-label="Your devices">
          {rows.map((device) => (
            <li key={device.id} className="session">
              <span className="session-icon">
                {looksMobile(device.name) ? <PhoneIcon /> : <DesktopIcon />}
              </span>
              <div className="session-body">
                <p className="session-name">
                  {device.name}
                  {device.current && <span className="badge">This device</span>}
                </p>
                <dl className="session-meta">
                  <div>
                    <dt>Added</dt>
                    <dd>
                      <RelativeTime date={device.createdAt} now={now} />
                    </dd>
                  </div>
                  <div>
                    <dt>Last seen</dt>
                    <dd>
                      {device.current ? 'Now' : <RelativeTime date={device.lastSeenAt} now={now} />}
                    </dd>
                  </div>
                </dl>
              </div>
              <div className="button-row session-action">
                <button
                  type="button"
                  className="btn btn-secondary btn-small"
                  aria-label={`Rename ${device.name}`}
                  onClick={() => setRenaming(device)}
                >
                  <EditIcon width={16} height={16} />
                  Rename
                </button>
                {!device.current && (
                  <button
                    type="button"
                    className="btn btn-danger btn-small"
                    aria-label={`Remove ${device.name}`}
                    onClick={() => {
                      setNotice(null);
                      setRevoking(device);
                    }}
                  >
                    Remove
                  </button>
                )}
              </div>
            </li>
          ))}
        </ul>
      )}
      {/* Keyed by device so the form starts from that device's name each time. */}
      <RenameDeviceDialog
        key={renaming?.id ?? 'none'}
        device={renaming}
        onClose={() => setRenaming(null)}
      />
      <RevokeDeviceDialog
        device={revoking}
        onClose={(result) => {
          setRevoking(null);
          if (result) setNotice(result);
        }}
      />
      <LinkDeviceDialog
        open={linking}
        onClose={(linkedName) => {
          setLinking(false);
          if (linkedName) setNotice(`${linkedName} is linked and has your keys and history.`);
        }}
      />
    </>
  );
}

/**
 * The devices that hold this account's encryption keys: each signed into the account's device
 * list. Linking adds one (with keys and history handed over end to end); removing one publishes
 * a new list without it and gives every conversation new keys.
 */
export function DevicesSection() {
  const { status, client } = useE2ee();
  return (
    <Card
      title="Devices"
      description="Browsers and devices that hold your encryption keys and can read your messages. Link a new one from here; remove any you no longer use or do not recognise."
    >
      {status !== 'ready' || !client ? (
        <p className="settings-note">
          Encryption is not set up on this browser yet. Go to <Link to="/">Chats</Link> to set it
          up; your devices appear here afterwards.
        </p>
      ) : (
        <DeviceList />
      )}
    </Card>
  );
}
