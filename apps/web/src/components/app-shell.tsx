import type { ReactNode } from 'react';
import { Link, NavLink } from 'react-router';
import { DemoBanner } from './demo-banner.tsx';
import type { SessionUser } from '../features/auth/use-session.ts';
import { ChatsIcon, LogoIcon, SettingsIcon } from './icons.tsx';
import { UserMenu } from './user-menu.tsx';

/**
 * The signed-in frame: a header with the brand, the main navigation and the account menu, and
 * the page below. On phones the navigation becomes a bottom tab bar. Later features add their
 * destinations to NAV_ITEMS.
 */
const NAV_ITEMS = [
  { to: '/', label: 'Chats', icon: ChatsIcon, end: true },
  { to: '/settings', label: 'Settings', icon: SettingsIcon, end: false },
] as const;

export function AppShell({ user, children }: { user: SessionUser; children: ReactNode }) {
  return (
    <div className="shell">
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
              {NAV_ITEMS.map(({ to, label, icon: Icon, end }) => (
                <li key={to}>
                  <NavLink to={to} end={end} className="nav-link">
                    <Icon className="nav-icon" />
                    <span className="nav-label">{label}</span>
                  </NavLink>
                </li>
              ))}
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
