import { useEffect, useRef, useState } from 'react';
import { ErrorAlert, LoadingState } from '../../components/status.tsx';

/** The part of the Barcode Detection API used here (not yet in TypeScript's DOM types). */
interface DetectedBarcode {
  rawValue: string;
}
interface BarcodeDetectorInstance {
  detect(source: HTMLVideoElement): Promise<DetectedBarcode[]>;
}
interface BarcodeDetectorClass {
  new (options?: { formats?: string[] }): BarcodeDetectorInstance;
  getSupportedFormats?(): Promise<string[]>;
}

/** The browser's own detector, where it has one that reads QR codes. */
async function nativeDetector(): Promise<BarcodeDetectorInstance | null> {
  const Detector = (globalThis as { BarcodeDetector?: BarcodeDetectorClass }).BarcodeDetector;
  if (typeof Detector !== 'function') return null;
  try {
    const formats = (await Detector.getSupportedFormats?.()) ?? ['qr_code'];
    return formats.includes('qr_code') ? new Detector({ formats: ['qr_code'] }) : null;
  } catch {
    return null;
  }
}

/**
 * A QR code detector: the browser's (Chrome on Android and macOS, among others) or else ZXing's
 * WebAssembly build (Safari, Firefox, Chrome on Linux and Windows), loaded only when a scan
 * starts and served by this app, not a CDN.
 */
async function qrDetector(): Promise<BarcodeDetectorInstance> {
  const native = await nativeDetector();
  if (native) return native;
  const [{ BarcodeDetector, prepareZXingModule }, { default: wasmUrl }] = await Promise.all([
    import('barcode-detector/ponyfill'),
    import('zxing-wasm/reader/zxing_reader.wasm?url'),
  ]);
  prepareZXingModule({
    overrides: {
      locateFile: (path: string, prefix: string) =>
        path.endsWith('.wasm') ? wasmUrl : prefix + path,
    },
  });
  return new BarcodeDetector({ formats: ['qr_code'] });
}

/**
 * Whether this device can scan a QR code: it has a camera the page may use. (Reading the code
 * works in every browser, see {@link qrDetector}.) Elsewhere the short code is typed instead.
 */
export async function canScanQrCodes(): Promise<boolean> {
  if (!navigator.mediaDevices?.getUserMedia || !navigator.mediaDevices.enumerateDevices)
    return false;
  // A server that forbids the camera (Permissions-Policy) would only make the scan fail later.
  const policy = (document as { featurePolicy?: { allowsFeature(name: string): boolean } })
    .featurePolicy;
  if (policy && !policy.allowsFeature('camera')) return false;
  try {
    const devices = await navigator.mediaDevices.enumerateDevices();
    return devices.some((device) => device.kind === 'videoinput');
  } catch {
    return false;
  }
}

/**
 * The camera's picture with QR detection a few times a second; calls `onCode` once with the
 * first code's text. The camera is released as soon as this unmounts.
 */
export function QrScanner({ onCode }: { onCode: (text: string) => void }) {
  const video = useRef<HTMLVideoElement>(null);
  const onCodeRef = useRef(onCode);
  useEffect(() => {
    onCodeRef.current = onCode;
  }, [onCode]);
  const [state, setState] = useState<'starting' | 'scanning' | { error: string }>('starting');

  useEffect(() => {
    let stream: MediaStream | null = null;
    let timer: ReturnType<typeof setTimeout> | null = null;
    let stopped = false;

    async function scan(detector: BarcodeDetectorInstance) {
      if (stopped || !video.current) return;
      try {
        const [first] = await detector.detect(video.current);
        if (first?.rawValue && !stopped) {
          stopped = true;
          onCodeRef.current(first.rawValue);
          return;
        }
      } catch {
        // A frame that is not ready yet: try the next one.
      }
      timer = setTimeout(() => void scan(detector), 250);
    }

    void (async () => {
      let detector: BarcodeDetectorInstance;
      try {
        detector = await qrDetector();
      } catch {
        setState({ error: 'The QR code reader could not be loaded. Type the code instead.' });
        return;
      }
      try {
        stream = await navigator.mediaDevices.getUserMedia({
          video: { facingMode: 'environment' },
          audio: false,
        });
        if (stopped || !video.current) {
          // Closed while the camera was starting: release it at once.
          for (const track of stream.getTracks()) track.stop();
          return;
        }
        video.current.srcObject = stream;
        await video.current.play();
        setState('scanning');
        void scan(detector);
      } catch (error) {
        const denied = error instanceof DOMException && error.name === 'NotAllowedError';
        setState({
          error: denied
            ? 'SecureChat may not use the camera. Allow it in the browser’s site settings, or type the code instead.'
            : 'The camera could not be started. Type the code instead.',
        });
      }
    })();

    return () => {
      stopped = true;
      if (timer) clearTimeout(timer);
      for (const track of stream?.getTracks() ?? []) track.stop();
    };
  }, []);

  return (
    <div className="qr-scanner">
      {typeof state === 'object' ? (
        <ErrorAlert>{state.error}</ErrorAlert>
      ) : (
        <>
          <video
            ref={video}
            className="qr-scanner-video"
            muted
            playsInline
            aria-label="Camera picture for scanning the QR code"
          />
          {state === 'starting' ? (
            <LoadingState label="Starting the camera…" />
          ) : (
            <p role="status" className="setup-progress-text">
              Point the camera at the QR code on the new device.
            </p>
          )}
        </>
      )}
    </div>
  );
}
