import { z } from 'zod';
import { PASSWORD_MAX, PASSWORD_MIN } from '../../auth/password.ts';

export const usernameSchema = z
  .string({ message: 'Username is required' })
  .min(3, 'Username must be at least 3 characters')
  .max(32, 'Username must be at most 32 characters')
  .regex(/^[A-Za-z0-9_.-]+$/, 'Username may contain only letters, digits, _ . and -');

export const newPasswordSchema = z
  .string({ message: 'Password is required' })
  .min(PASSWORD_MIN, `Password must be at least ${PASSWORD_MIN} characters`)
  .max(PASSWORD_MAX, `Password must be at most ${PASSWORD_MAX} characters`);

// Sign-in accepts any password the policy could have accepted, without revealing the policy's
// verdict on a wrong one; the bound keeps hashing cost in check.
const anyPasswordSchema = z
  .string({ message: 'Password is required' })
  .min(1, 'Password is required')
  .max(PASSWORD_MAX, `Password must be at most ${PASSWORD_MAX} characters`);

export const registerInput = z.object({
  username: usernameSchema,
  password: newPasswordSchema,
  /** Services ask for a bearer token instead of a cookie. */
  bearer: z.boolean().optional(),
});

export const loginInput = z.object({
  username: z.string().min(1, 'Username is required').max(64, 'Username is too long'),
  password: anyPasswordSchema,
  bearer: z.boolean().optional(),
});

export const changePasswordInput = z.object({
  current: anyPasswordSchema,
  next: newPasswordSchema,
});

export const revokeSessionInput = z.object({
  id: z.string().regex(/^[0-9a-f]{64}$/, 'Not a session id'),
});

export type RegisterInput = z.infer<typeof registerInput>;
export type LoginInput = z.infer<typeof loginInput>;
export type ChangePasswordInput = z.infer<typeof changePasswordInput>;
