-- AlterTable
ALTER TABLE "api_keys" ADD COLUMN     "allowed_models" TEXT[] DEFAULT ARRAY[]::TEXT[],
ADD COLUMN     "daily_budget_micros" BIGINT,
ADD COLUMN     "monthly_budget_micros" BIGINT;

-- AlterTable
ALTER TABLE "usage_records" ADD COLUMN     "user" TEXT;

-- CreateIndex
CREATE INDEX "usage_records_organization_id_user_started_at_idx" ON "usage_records"("organization_id", "user", "started_at");
