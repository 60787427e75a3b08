import { useId, type ReactNode } from 'react';

/**
 * A card of the settings page: a region named by its heading, with what it is for under the
 * heading and its content after.
 */
export function Card({
  title,
  description,
  children,
}: {
  title: string;
  description: ReactNode;
  children?: ReactNode;
}) {
  const headingId = useId();
  return (
    <section className="card" aria-labelledby={headingId}>
      <div className="card-header">
        <h2 id={headingId} className="card-title">
          {title}
        </h2>
        <p className="card-description">{description}</p>
      </div>
      {children}
    </section>
  );
}
