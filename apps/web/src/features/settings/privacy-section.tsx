import { useState } from 'react';
import { Card } from '../../components/card.tsx';
import { ErrorAlert, SkeletonList } from '../../components/status.tsx';
import { errorMessage } from '../../lib/api-errors.ts';
import { trpc } from '../../lib/trpc.ts';
import { ToggleField } from './toggle-field.tsx';

/** Read receipts and typing indicators: what others learn about this user's reading and typing. */
export function PrivacySection() {
  const utils = trpc.useUtils();
  const settings = trpc.settings.get.useQuery();
  const [error, setError] = useState<string | null>(null);
  const update = trpc.settings.update.useMutation({
    onMutate: async (change) => {
      setError(null);
      await utils.settings.get.cancel();
      const previous = utils.settings.get.getData();
      if (previous) utils.settings.get.setData(undefined, { ...previous, ...change });
      return { previous };
    },
    onError: (failure, _change, context) => {
      if (context?.previous) utils.settings.get.setData(undefined, context.previous);
      setError(errorMessage(failure));
    },
    onSettled: () => utils.settings.get.invalidate(),
  });

  return (
    <Card
      title="Privacy"
      description="Saved on the server for your account, so every device follows them."
    >
      {error && <ErrorAlert>{error}</ErrorAlert>}
      {settings.isPending ? (
        <SkeletonList label="Loading privacy settings" rows={2} />
      ) : settings.error ? (
        <ErrorAlert onRetry={() => void settings.refetch()}>
          Could not load your privacy settings. {errorMessage(settings.error)}
        </ErrorAlert>
      ) : (
        <div className="toggle-list">
          <ToggleField
            label="Send read receipts"
            description="Others see when you have read their messages. If you turn this off, you do not see theirs either."
            checked={settings.data.sendReadReceipts}
            onChange={(sendReadReceipts) => update.mutate({ sendReadReceipts })}
          />
          <ToggleField
            label="Send typing indicators"
            description="Others see when you are typing. If you turn this off, you do not see theirs either."
            checked={settings.data.sendTyping}
            onChange={(sendTyping) => update.mutate({ sendTyping })}
          />
        </div>
      )}
    </Card>
  );
}
