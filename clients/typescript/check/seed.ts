// The seed's own TypeScript types, copied verbatim from ../shared/seed/ (the block under "TypeScript Types"):
// TypeScriptClientTests fails when this copy and the seed differ. check/contract.ts holds the generated shapes to them.
// Common
export type Rfc3339String = string;

export interface Pagination {
  next_cursor?: string;
  prev_cursor?: string;
  has_next: boolean;
  has_prev: boolean;
  limit: number;
}

export interface Meta {
  request_id: string;
  timestamp: Rfc3339String;
  pagination?: Pagination;
}

export interface APIResponse<T> {
  success: boolean;
  message: string;
  data: T | null;
  meta: Meta;
  errors: Record<string, string[]> | null;
}

// Entities
export type SessionStatus = 'OPEN' | 'CLOSED';

export interface ChatSession {
  id: string;
  tenant_id: number;
  agent_id?: number;
  status: SessionStatus;
  created_at: Rfc3339String;
  updated_at: Rfc3339String;
}

export interface ChatMessage {
  id: string;
  session_id: string;
  sender_id: number;
  message: string;
  created_at: Rfc3339String;
}

// Requests
export interface StartSessionRequest { agent_id?: number }
export interface SendMessageRequest { message: string }

// Responses
export type StartSessionResponse = APIResponse<ChatSession>;
export type SendMessageResponse = APIResponse<ChatMessage>;
export type ListMessagesResponse = APIResponse<ChatMessage[]>;
