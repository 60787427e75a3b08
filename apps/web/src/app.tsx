import { useState } from 'react';
import { QueryClientProvider } from '@tanstack/react-query';
import { createBrowserRouter, type RouteObject } from 'react-router';
import { RouterProvider } from 'react-router/dom';
import { NotFoundPage } from './components/not-found-page.tsx';
import { RouteError } from './components/route-error.tsx';
import { RegisterPage } from './features/auth/register-page.tsx';
import { RequireGuest, RequireSession } from './features/auth/route-guards.tsx';
import { SignInPage } from './features/auth/sign-in-page.tsx';
import { ChatsPage } from './features/chats/chats-page.tsx';
import { ConversationView, NoConversation } from './features/chats/conversation-view.tsx';
import { SettingsPage } from './features/settings/settings-page.tsx';
import { createQueryClient } from './lib/query-client.ts';
import { createTrpcClient, trpc } from './lib/trpc.ts';

/** Every page of the app. New signed-in features add a child under RequireSession. */
export const routes: RouteObject[] = [
  {
    errorElement: <RouteError />,
    children: [
      {
        element: <RequireGuest />,
        children: [
          { path: '/sign-in', element: <SignInPage /> },
          { path: '/register', element: <RegisterPage /> },
        ],
      },
      {
        element: <RequireSession />,
        children: [
          {
            element: <ChatsPage />,
            // The chats use the whole window below the header (see AppShell).
            handle: { fullBleed: true },
            children: [
              { path: '/', element: <NoConversation /> },
              { path: '/c/:conversationId', element: <ConversationView /> },
            ],
          },
          {
            path: '/calendar',
            // FullCalendar and ical.js load only when the calendar is opened.
            lazy: async () => ({
              Component: (await import('./features/calendar/calendar-page.tsx')).CalendarPage,
            }),
            handle: { wide: true },
          },
          { path: '/settings', element: <SettingsPage /> },
        ],
      },
      { path: '*', element: <NotFoundPage /> },
    ],
  },
];

/** The app with its clients. They are made once per mount (not at import), so tests get fresh ones. */
export function App() {
  const [queryClient] = useState(createQueryClient);
  const [{ client }] = useState(() => createTrpcClient());
  const [router] = useState(() => createBrowserRouter(routes));
  return (
    <trpc.Provider client={client} queryClient={queryClient}>
      <QueryClientProvider client={queryClient}>
        <RouterProvider router={router} />
      </QueryClientProvider>
    </trpc.Provider>
  );
}
