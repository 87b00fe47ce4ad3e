import { z } from 'zod';
import { defineEvent } from '../registry';
import { topics } from '../topics';
import { bareJid } from './fields';

// Credentials never travel in events: the gateway's database is their only store.
export const AccountCreated = defineEvent('AccountCreated', 1, topics.accounts, z.object({ account: bareJid }));
export const AccountPasswordChanged = defineEvent('AccountPasswordChanged', 1, topics.accounts, z.object({ account: bareJid }));
export const AccountDeleted = defineEvent('AccountDeleted', 1, topics.accounts, z.object({ account: bareJid }));
