import { useEffect, useRef } from 'react';
import { useLocation } from 'react-router';

/**
 * The page's one h1, plus its document title. After an in-app navigation it takes focus, so a
 * screen reader announces the new page the way a full page load would; on the first page of a
 * visit (location key "default") focus stays where the browser puts it.
 */
export function PageHeading({ title, className }: { title: string; className?: string }) {
  const ref = useRef<HTMLHeadingElement>(null);
  const { key } = useLocation();
  useEffect(() => {
    if (key !== 'default') ref.current?.focus({ preventScroll: false });
  }, [key]);
  return (
    <>
      <title>{`${title} · SecureChat`}</title>
      <h1 ref={ref} tabIndex={-1} className={['page-heading', className].filter(Boolean).join(' ')}>
        {title}
      </h1>
    </>
  );
}
