-- AlterTable
ALTER TABLE "organizations" ADD COLUMN     "default_rpm" INTEGER,
ADD COLUMN     "default_tpm" INTEGER,
ADD COLUMN     "max_rpm" INTEGER,
ADD COLUMN     "max_tpm" INTEGER;
