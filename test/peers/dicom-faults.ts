import { createServer, type Server, type Socket } from 'node:net';
import dimse from 'dcmjs-dimse';

/**
 * A DICOM storage SCP that misbehaves on purpose — what no real peer can be made to do on
 * demand: answer a C-STORE with a chosen status (a PACS out of disk answers 0xA700), store but
 * never let a C-FIND find it, take the association and then never answer, or cut the connection
 * as the first P-DATA arrives (a crashing PACS, a firewall that drops long flows). Built on
 * dcmjs-dimse's Scp for the association; the faults are its own. Listens on 127.0.0.1, on a
 * port the OS hands out; one instance serves a whole spec file, its fault set per test.
 */
export type StoreFault =
  /**
   * Answers the C-STORE with `status`; a study-level C-FIND finds nothing, or with `find:
   * 'another-study'` a study with another StudyInstanceUID, as a node that ignores the key would.
   */
  | { kind: 'status'; status: number; errorComment?: string; find?: 'nothing' | 'another-study' }
  /** Takes the association but no storage SOP class, as a node that does not store for this AE title. */
  | { kind: 'refuse-storage' }
  /** Accepts the association, then never answers the C-STORE. */
  | { kind: 'stall' }
  /** Accepts the association, then closes the TCP connection when the first P-DATA-TF starts. */
  | { kind: 'drop-on-first-pdata' };

export interface FaultScp {
  port: number;
  /** What the next associations meet. */
  setFault(fault: StoreFault): void;
  /** C-STORE requests seen so far (a dropped one is not counted: it was never read whole). */
  stores(): number;
  /** C-FIND requests seen so far. */
  finds(): number;
  close(): Promise<void>;
}

const { Scp, Dataset } = dimse;
const { CStoreResponse, CEchoResponse, CFindResponse } = dimse.responses;
const { PresentationContextResult, TransferSyntax, Status } = dimse.constants;

/** Every image storage SOP class UID starts so (PS3.4 B.5). */
const STORAGE_SOP_CLASSES = '1.2.840.10008.5.1.4.1.1.';
const P_DATA_TF = 0x04;
const PDU_HEADER = 6;

/** Calls `onPData` when a P-DATA-TF PDU starts, following PDU boundaries across TCP chunks. */
function watchPdus(socket: Socket, onPData: () => void): void {
  let pending = Buffer.alloc(0);
  let skip = 0;
  socket.prependListener('data', (chunk: Buffer) => {
    pending = Buffer.concat([pending, chunk]);
    for (;;) {
      if (skip > 0) {
        const n = Math.min(skip, pending.length);
        pending = pending.subarray(n);
        skip -= n;
        if (skip > 0) return;
      }
      if (pending.length < PDU_HEADER) return;
      if (pending[0] === P_DATA_TF) return onPData();
      skip = PDU_HEADER + pending.readUInt32BE(2);
    }
  });
}

export async function startFaultScp(initial: StoreFault): Promise<FaultScp> {
  dimse.log.setLevel('silent');
  let current = initial;
  let stores = 0;
  let finds = 0;
  const sockets = new Set<Socket>();

  class FaultyScp extends Scp {
    private readonly fault = current;

    constructor(socket: Socket) {
      super(socket, { associationTimeout: 60_000, pduTimeout: 60_000 });
      if (current.kind === 'drop-on-first-pdata') watchPdus(socket, () => socket.destroy());
    }

    override associationRequested(association: InstanceType<typeof dimse.association.Association>): void {
      for (const proposed of association.getPresentationContexts()) {
        const context = association.getPresentationContext(proposed.id);
        if (this.fault.kind === 'refuse-storage' && context.getAbstractSyntaxUid().startsWith(STORAGE_SOP_CLASSES)) {
          context.setResult(PresentationContextResult.RejectAbstractSyntaxNotSupported);
          continue;
        }
        const syntaxes = context.getTransferSyntaxUids();
        // Explicit VR first, as most PACS prefer it: the client then transcodes what it sends.
        const plain = [TransferSyntax.ExplicitVRLittleEndian, TransferSyntax.ImplicitVRLittleEndian].find((ts) => syntaxes.includes(ts));
        if (plain) context.setResult(PresentationContextResult.Accept, plain);
        else context.setResult(PresentationContextResult.RejectTransferSyntaxesNotSupported);
      }
      this.sendAssociationAccept();
    }

    override associationReleaseRequested(): void {
      this.sendAssociationReleaseResponse();
    }

    override cEchoRequest(request: InstanceType<typeof dimse.requests.CEchoRequest>, callback: (response: InstanceType<typeof CEchoResponse>) => void): void {
      callback(CEchoResponse.fromRequest(request));
    }

    override cStoreRequest(
      request: InstanceType<typeof dimse.requests.CStoreRequest>,
      callback: (response: InstanceType<typeof CStoreResponse>) => void,
    ): void {
      stores++;
      const fault = this.fault;
      if (fault.kind !== 'status') return;
      const response = CStoreResponse.fromRequest(request);
      response.setStatus(fault.status);
      if (fault.errorComment) response.setErrorComment(fault.errorComment);
      callback(response);
    }

    override cFindRequest(
      request: InstanceType<typeof dimse.requests.CFindRequest>,
      callback: (responses: InstanceType<typeof CFindResponse>[]) => void,
    ): void {
      finds++;
      const responses: InstanceType<typeof CFindResponse>[] = [];
      if (this.fault.kind === 'status' && this.fault.find === 'another-study') {
        const match = CFindResponse.fromRequest(request);
        match.setDataset(new Dataset({ QueryRetrieveLevel: 'STUDY', StudyInstanceUID: '1.2.826.0.1.3680043.10.9999.1', PatientID: 'SOMEONE-ELSE' }));
        match.setStatus(Status.Pending);
        responses.push(match);
      }
      const done = CFindResponse.fromRequest(request);
      done.setStatus(Status.Success);
      callback([...responses, done]);
    }
  }

  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    const scp = new FaultyScp(socket);
    scp.on('networkError', () => socket.destroy());
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    port,
    setFault: (fault) => {
      current = fault;
    },
    stores: () => stores,
    finds: () => finds,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
