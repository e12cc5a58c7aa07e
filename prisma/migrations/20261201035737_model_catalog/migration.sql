-- AlterTable
ALTER TABLE "served_models" ADD COLUMN     "accelerator" TEXT,
ADD COLUMN     "is_public" BOOLEAN NOT NULL DEFAULT true,
ADD COLUMN     "secret_env_names" TEXT[] DEFAULT ARRAY['HF_TOKEN']::TEXT[],
ADD COLUMN     "source" TEXT,
ADD COLUMN     "vllm_args" TEXT[] DEFAULT ARRAY[]::TEXT[],
ADD COLUMN     "vllm_version" TEXT;

-- CreateTable
CREATE TABLE "served_model_access" (
    "model_id" TEXT NOT NULL,
    "organization_id" TEXT NOT NULL,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "served_model_access_pkey" PRIMARY KEY ("model_id","organization_id")
);

-- CreateIndex
CREATE INDEX "served_model_access_organization_id_idx" ON "served_model_access"("organization_id");

-- AddForeignKey
ALTER TABLE "served_model_access" ADD CONSTRAINT "served_model_access_model_id_fkey" FOREIGN KEY ("model_id") REFERENCES "served_models"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "served_model_access" ADD CONSTRAINT "served_model_access_organization_id_fkey" FOREIGN KEY ("organization_id") REFERENCES "organizations"("id") ON DELETE CASCADE ON UPDATE CASCADE;
