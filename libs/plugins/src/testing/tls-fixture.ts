import selfsigned from 'selfsigned';

export interface TlsFixture {
  key: string;
  cert: string;
}

/** A throwaway self-signed certificate for localhost, valid for `days` (negative: already expired). */
export async function selfSignedCert(days = 30, commonName = 'localhost'): Promise<TlsFixture> {
  const notBefore = new Date(Date.now() - 24 * 3600 * 1000 * (days < 0 ? -days + 2 : 1));
  const notAfter = new Date(Date.now() + days * 24 * 3600 * 1000);
  const pems = await selfsigned.generate([{ name: 'commonName', value: commonName }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    notBeforeDate: notBefore,
    notAfterDate: notAfter,
    extensions: [{ name: 'subjectAltName', altNames: [{ type: 2, value: commonName }, { type: 7, ip: '127.0.0.1' }] }],
  });
  return { key: pems.private, cert: pems.cert };
}
