import type { CheckStatus, Reason } from '../plugin.js';

/**
 * Every NT_STATUS code smbclient reports that Rounds knows, with its reason and a
 * sentence saying what to do. A code not here is reported as UNKNOWN with the code:
 * add it here when it turns up.
 */
export const NT_STATUS: Readonly<Record<string, readonly [Reason, string]>> = {
  NT_STATUS_LOGON_FAILURE: ['auth', 'the server refused the user name or password'],
  NT_STATUS_WRONG_PASSWORD: ['auth', 'the password is wrong'],
  NT_STATUS_NO_SUCH_USER: ['auth', 'the server does not know this user'],
  NT_STATUS_ACCOUNT_DISABLED: ['auth', 'the account is disabled'],
  NT_STATUS_ACCOUNT_LOCKED_OUT: ['auth', 'the account is locked out (too many wrong passwords?)'],
  NT_STATUS_ACCOUNT_EXPIRED: ['auth', 'the account has expired'],
  NT_STATUS_PASSWORD_EXPIRED: ['auth', 'the password has expired: set a new one and update the check'],
  NT_STATUS_PASSWORD_MUST_CHANGE: ['auth', 'the password must be changed before the account can log on'],
  NT_STATUS_ACCOUNT_RESTRICTION: ['auth', 'an account restriction stops this logon (blank password or policy)'],
  NT_STATUS_INVALID_LOGON_HOURS: ['auth', 'the account may not log on at this time'],
  NT_STATUS_INVALID_WORKSTATION: ['auth', 'the account may not log on from this agent'],
  NT_STATUS_LOGON_TYPE_NOT_GRANTED: ['auth', 'the account is not granted network logon'],
  NT_STATUS_TRUSTED_RELATIONSHIP_FAILURE: ['auth', 'the server cannot reach its domain to check the account'],
  NT_STATUS_NO_LOGON_SERVERS: ['auth', 'the server has no domain controller to check the account'],
  NT_STATUS_NETWORK_SESSION_EXPIRED: ['auth', 'the session expired (Kerberos ticket or server policy)'],
  NT_STATUS_BAD_NETWORK_NAME: ['bad_share', 'the server has no share by this name'],
  NT_STATUS_NETWORK_NAME_DELETED: ['bad_share', 'the share was removed while connected'],
  NT_STATUS_OBJECT_NAME_NOT_FOUND: ['bad_share', 'the path does not exist in the share'],
  NT_STATUS_OBJECT_PATH_NOT_FOUND: ['bad_share', 'a folder in the path does not exist in the share'],
  NT_STATUS_OBJECT_NAME_INVALID: ['bad_share', 'the path is not a valid name on this server'],
  NT_STATUS_NOT_A_DIRECTORY: ['bad_share', 'the path is a file, not a folder'],
  NT_STATUS_NO_SUCH_FILE: ['bad_share', 'the file does not exist'],
  NT_STATUS_ACCESS_DENIED: ['access_denied', 'the user is not allowed to do this on the share'],
  NT_STATUS_NETWORK_ACCESS_DENIED: ['access_denied', 'the user is not allowed to use this share'],
  NT_STATUS_MEDIA_WRITE_PROTECTED: ['access_denied', 'the share is read-only'],
  NT_STATUS_SHARING_VIOLATION: ['access_denied', 'another program holds the probe file open'],
  NT_STATUS_CANNOT_DELETE: ['access_denied', 'the probe file cannot be deleted'],
  NT_STATUS_DISK_FULL: ['disk_full', 'the share is full'],
  NT_STATUS_QUOTA_EXCEEDED: ['disk_full', "the user's quota on the share is used up"],
  NT_STATUS_CONNECTION_REFUSED: ['refused', 'nothing accepts SMB connections on this port'],
  NT_STATUS_HOST_UNREACHABLE: ['unreachable', 'there is no route to the server'],
  NT_STATUS_NETWORK_UNREACHABLE: ['unreachable', 'the network of the server is unreachable'],
  NT_STATUS_IO_TIMEOUT: ['timeout', 'the server did not answer in time'],
  NT_STATUS_CONNECTION_RESET: ['protocol_error', 'the server reset the connection'],
  NT_STATUS_CONNECTION_DISCONNECTED: ['protocol_error', 'the server closed the connection'],
  NT_STATUS_END_OF_FILE: ['protocol_error', 'the server closed the connection (is this an SMB port?)'],
  NT_STATUS_INVALID_NETWORK_RESPONSE: ['protocol_error', 'the server sent an answer that is not SMB'],
  NT_STATUS_NOT_SUPPORTED: ['protocol_error', 'the server does not support what was asked (SMB dialect, signing or encryption)'],
  NT_STATUS_INVALID_PARAMETER: ['protocol_error', 'the server rejected a request parameter'],
  NT_STATUS_REQUEST_NOT_ACCEPTED: ['protocol_error', 'the server accepts no more connections'],
  NT_STATUS_INVALID_SIGNATURE: ['protocol_error', 'SMB signing failed'],
  NT_STATUS_UNSUCCESSFUL: ['protocol_error', 'the connection failed without a specific status'],
};

export interface NtStatusVerdict {
  status: CheckStatus;
  reason: Reason;
  message: string;
}

export function describeNtStatus(code: string): NtStatusVerdict {
  const known = NT_STATUS[code];
  if (known) return { status: 'CRITICAL', reason: known[0], message: `${known[1]} (${code})` };
  return { status: 'UNKNOWN', reason: 'unexpected_response', message: `the server answered ${code}, which Rounds does not know yet` };
}
