import type { ReactNode } from 'react';
import { Link, useLocation, useMatches } from 'react-router';
import { DemoBanner } from './demo-banner.tsx';
import type { SessionUser } from '../features/auth/use-session.ts';
import { CalendarIcon, ChatsIcon, LogoIcon, SettingsIcon } from './icons.tsx';
import { UserMenu } from './user-menu.tsx';

/**
 * The signed-in frame: a header with the brand, the main navigation and the account menu, and
 * the page below. On phones the navigation becomes a bottom tab bar. Later features add their
 * destinations to NAV_ITEMS.
 */
const NAV_ITEMS = [
  {
    to: '/',
    label: 'Chats',
    icon: ChatsIcon,
    matches: (path: string) => path === '/' || path.startsWith('/c/'),
  },
  {
    to: '/calendar',
    label: 'Calendar',
    icon: CalendarIcon,
    matches: (path: string) => path.startsWith('/calendar'),
  },
  {
    to: '/settings',
    label: 'Settings',
    icon: SettingsIcon,
    matches: (path: string) => path.startsWith('/settings'),
  },
] as const;

export function AppShell({ user, children }: { user: SessionUser; children: ReactNode }) {
  const { pathname } = useLocation();
  // Routes with `handle: { fullBleed: true }` (the chats) fill the window instead of a column.
  const fullBleed = useMatches().some(
    (match) => (match.handle as { fullBleed?: boolean } | undefined)?.fullBleed,
  );
  // Routes with `handle: { wide: true }` (the calendar) use a wider column.
  const wide = useMatches().some((match) => (match.handle as { wide?: boolean } | undefined)?.wide);
  const inConversation = pathname.startsWith('/c/');
  return (
    <div
      className={[
        'shell',
        fullBleed ? 'shell-full' : null,
        wide ? 'shell-wide' : null,
        inConversation ? 'shell-conversation' : null,
      ]
        .filter(Boolean)
        .join(' ')}
    >
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="shell-header">
        <div className="shell-header-inner">
          <Link to="/" className="brand" aria-label="SecureChat home">
            <LogoIcon />
            <span className="brand-name">SecureChat</span>
          </Link>
          <nav className="shell-nav" aria-label="Main">
            <ul>
              {NAV_ITEMS.map(({ to, label, icon: Icon, matches }) => {
                const active = matches(pathname);
                return (
                  <li key={to}>
                    <Link
                      to={to}
                      className={`nav-link${active ? ' active' : ''}`}
                      aria-current={active ? 'page' : undefined}
                    >
                      <Icon className="nav-icon" />
                      <span className="nav-label">{label}</span>
                    </Link>
                  </li>
                );
              })}
            </ul>
          </nav>
          <UserMenu user={user} />
        </div>
      </header>
      <DemoBanner />
      <main id="main" className="shell-main" tabIndex={-1}>
        {children}
      </main>
    </div>
  );
}
