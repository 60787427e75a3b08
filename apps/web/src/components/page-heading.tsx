import { useEffect, useRef } from 'react';
import { useLocation } from 'react-router';
import { useUnreadTitleCount, withUnreadCount } from '../lib/unread-title.ts';

/**
 * The page's one h1, plus its document title (with the unread count while there is one). After an in-app navigation it takes focus, so a
 * screen reader announces the new page the way a full page load would; on the first page of a
 * visit (location key "default") focus stays where the browser puts it. Pages that navigate
 * within themselves (the chats, between conversations) turn that off and manage focus instead.
 */
export function PageHeading({
  title,
  className,
  documentTitle = title,
  focusOnNavigate = true,
}: {
  title: string;
  className?: string;
  documentTitle?: string;
  focusOnNavigate?: boolean;
}) {
  const ref = useRef<HTMLHeadingElement>(null);
  const { key } = useLocation();
  const unread = useUnreadTitleCount();
  useEffect(() => {
    if (focusOnNavigate && key !== 'default') ref.current?.focus({ preventScroll: false });
  }, [key, focusOnNavigate]);
  return (
    <>
      <title>{withUnreadCount(`${documentTitle} · SecureChat`, unread)}</title>
      <h1 ref={ref} tabIndex={-1} className={['page-heading', className].filter(Boolean).join(' ')}>
        {title}
      </h1>
    </>
  );
}
