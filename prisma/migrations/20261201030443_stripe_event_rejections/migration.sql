-- CreateEnum
CREATE TYPE "StripeEventStatus" AS ENUM ('PROCESSED', 'REJECTED');

-- AlterTable
ALTER TABLE "stripe_events" ADD COLUMN     "reject_reason" TEXT,
ADD COLUMN     "status" "StripeEventStatus" NOT NULL DEFAULT 'PROCESSED';

-- CreateIndex
CREATE INDEX "stripe_events_status_processed_at_idx" ON "stripe_events"("status", "processed_at");
