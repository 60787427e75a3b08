import type { ReactNode } from 'react';
import { LockIcon, LogoIcon } from '../../components/icons.tsx';
import { DemoBanner } from '../../components/demo-banner.tsx';
import { PageHeading } from '../../components/page-heading.tsx';

/** The frame of the signed-out pages: the brand, one card with the form, and a footer line. */
export function AuthLayout({
  title,
  intro,
  children,
  footer,
}: {
  title: string;
  intro: ReactNode;
  children: ReactNode;
  footer: ReactNode;
}) {
  return (
    <div className="auth-page">
      <DemoBanner />
      <header className="auth-brand">
        <LogoIcon />
        <span className="brand-name">SecureChat</span>
      </header>
      <main className="auth-main">
        <div className="auth-card">
          <PageHeading title={title} />
          <p className="auth-intro">{intro}</p>
          {children}
        </div>
        <p className="auth-footer">{footer}</p>
      </main>
      <p className="auth-note">
        <LockIcon width={16} height={16} />
        Your session is kept in a secure cookie that scripts on this page cannot read.
      </p>
    </div>
  );
}
