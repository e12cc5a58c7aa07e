import type { ActorType, Prisma, PrismaClient } from '@cic/db';

type Tx = Prisma.TransactionClient | PrismaClient;

export interface Actor {
  type: ActorType;
  /** usr_…, key_… or a system component name. */
  id: string;
}

export interface AuditEntry {
  actor: Actor;
  action: string;
  organizationId?: string | null;
  targetType?: string;
  targetId?: string;
  metadata?: Prisma.InputJsonValue;
  requestId?: string | null;
}

/** Records an admin or key action; write it in the same transaction as the action when there is one. */
export async function writeAuditLog(tx: Tx, entry: AuditEntry): Promise<void> {
  await tx.auditLog.create({
    data: {
      actorType: entry.actor.type,
      actorId: entry.actor.id,
      action: entry.action,
      organizationId: entry.organizationId ?? null,
      targetType: entry.targetType ?? null,
      targetId: entry.targetId ?? null,
      metadata: entry.metadata ?? {},
      requestId: entry.requestId ?? null,
    },
  });
}
