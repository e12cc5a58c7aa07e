-- AlterTable
ALTER TABLE "nodes" ADD COLUMN     "api_key_ciphertext" TEXT;
