// How long a DICOM node's TLS certificate has left, for the checks that judge it (dicom-echo,
// dicom-store): the metric and day thresholds of the http and tcp plugins.
import type { PeerCertificate } from 'node:tls';
import type { Metric } from '../plugin.js';
import type { DicomTlsExpiryConfig } from './dicom-fields.js';
import { certDaysLeft, certVerdict, type Verdict } from './net-common.js';

export interface CertificateCheck {
  /** `tls_cert_expiry_days`, when the handshake gave a certificate. */
  metrics: Metric[];
  /** CRITICAL/tls when expired, WARNING or CRITICAL/threshold when close to expiry. */
  verdict?: Verdict;
  /** "; certificate expires in 29.9 days" for an OK summary, '' without a certificate. */
  note: string;
}

/**
 * Judges the certificate as the http and tcp plugins judge theirs (same metric name, same day
 * thresholds): a DICOM TLS certificate that lapses stops every modality that sends to the node.
 */
export function certificateCheck(certificate: PeerCertificate | undefined, tls: DicomTlsExpiryConfig | undefined, now: number): CertificateCheck {
  const days = tls ? certDaysLeft(certificate, now) : undefined;
  if (days === undefined || !tls) return { metrics: [], note: '' };
  const verdict = certVerdict(days, tls.certWarningDays, tls.certCriticalDays);
  return {
    metrics: [{ name: 'tls_cert_expiry_days', value: days, unit: 'days' }],
    ...(verdict ? { verdict } : {}),
    note: `; certificate expires in ${days.toFixed(1)} days`,
  };
}

/** The declaration of the metric {@link certificateCheck} reports. */
export const TLS_CERT_EXPIRY_METRIC = {
  name: 'tls_cert_expiry_days',
  unit: 'days',
  help: "Time until the node's DICOM TLS certificate's notAfter, negative once expired (with tls only).",
} as const;
