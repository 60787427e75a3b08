import { useMemo } from 'react';
import { encode } from 'uqr';

/**
 * A QR code drawn as one inline SVG path (no style attributes, so the strict CSP allows it),
 * dark modules on a light square whatever the colour scheme, since scanners expect that. `label`
 * is its accessible name: a picture of a code means nothing to a screen reader on its own.
 */
export function QrCode({
  value,
  label,
  size = 232,
}: {
  value: string;
  label: string;
  size?: number;
}) {
  const { path, width } = useMemo(() => {
    // Medium error correction survives glare on a screen; a quiet zone of 4 modules is the
    // standard's minimum for reliable scanning.
    const border = 4;
    const qr = encode(value, { ecc: 'M', border });
    const commands: string[] = [];
    qr.data.forEach((row, y) => {
      row.forEach((dark, x) => {
        if (dark) commands.push(`M${x} ${y}h1v1h-1z`);
      });
    });
    return { path: commands.join(''), width: qr.size };
  }, [value]);

  return (
    <svg
      className="qr-code"
      role="img"
      aria-label={label}
      viewBox={`0 0 ${width} ${width}`}
      width={size}
      height={size}
      shapeRendering="crispEdges"
    >
      <rect width={width} height={width} fill="#ffffff" />
      <path d={path} fill="#000000" />
    </svg>
  );
}
