CREATE TABLE `key_backup_entries` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`user_id` text NOT NULL,
	`conversation_id` text NOT NULL,
	`epoch` integer NOT NULL,
	`entry` blob NOT NULL,
	`created_at` integer NOT NULL,
	FOREIGN KEY (`user_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `key_backup_entries_unique` ON `key_backup_entries` (`user_id`,`conversation_id`,`epoch`);--> statement-breakpoint
CREATE TABLE `key_backups` (
	`user_id` text PRIMARY KEY NOT NULL,
	`public_key` blob NOT NULL,
	`updated_at` integer NOT NULL,
	FOREIGN KEY (`user_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE TABLE `link_requests` (
	`handle` text PRIMARY KEY NOT NULL,
	`user_id` text NOT NULL,
	`session_id` text NOT NULL,
	`request` blob NOT NULL,
	`envelope` blob,
	`approved_by_device_id` text,
	`created_at` integer NOT NULL,
	`expires_at` integer NOT NULL,
	FOREIGN KEY (`user_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `link_requests_user_id_idx` ON `link_requests` (`user_id`);--> statement-breakpoint
CREATE TABLE `calendar_attendees` (
	`event_id` text NOT NULL,
	`user_id` text NOT NULL,
	`status` text NOT NULL,
	`rsvp_ref` text,
	`rsvp_device` text,
	`updated_at` integer NOT NULL,
	PRIMARY KEY(`event_id`, `user_id`),
	FOREIGN KEY (`event_id`) REFERENCES `calendar_events`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`user_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `calendar_attendees_user_idx` ON `calendar_attendees` (`user_id`);--> statement-breakpoint
CREATE TABLE `calendar_events` (
	`id` text PRIMARY KEY NOT NULL,
	`conversation_id` text NOT NULL,
	`organizer_id` text NOT NULL,
	`revision` integer NOT NULL,
	`all_day` integer NOT NULL,
	`start` text NOT NULL,
	`end` text NOT NULL,
	`time_zone` text NOT NULL,
	`rrule` text,
	`exdates` text NOT NULL,
	`reminders` text NOT NULL,
	`span_start_ms` integer NOT NULL,
	`span_end_ms` integer,
	`content_ref` text NOT NULL,
	`signed_by_device` text NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	`deleted_at` integer,
	FOREIGN KEY (`conversation_id`) REFERENCES `conversations`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`organizer_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `calendar_events_conversation_idx` ON `calendar_events` (`conversation_id`,`span_start_ms`);--> statement-breakpoint
CREATE INDEX `calendar_events_organizer_idx` ON `calendar_events` (`organizer_id`,`span_start_ms`);--> statement-breakpoint
CREATE INDEX `calendar_events_reminders_idx` ON `calendar_events` (`span_end_ms`) WHERE "calendar_events"."deleted_at" is null and "calendar_events"."reminders" != '[]';--> statement-breakpoint
CREATE TABLE `calendar_overrides` (
	`event_id` text NOT NULL,
	`recurrence_id` text NOT NULL,
	`revision` integer NOT NULL,
	`all_day` integer NOT NULL,
	`start` text NOT NULL,
	`end` text NOT NULL,
	`time_zone` text NOT NULL,
	`content_ref` text NOT NULL,
	`signed_by_device` text NOT NULL,
	`updated_at` integer NOT NULL,
	PRIMARY KEY(`event_id`, `recurrence_id`),
	FOREIGN KEY (`event_id`) REFERENCES `calendar_events`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE TABLE `calendar_reminders_fired` (
	`event_id` text NOT NULL,
	`occurrence_start_ms` integer NOT NULL,
	`minutes_before` integer NOT NULL,
	`due_at` integer NOT NULL,
	`fired_at` integer NOT NULL,
	PRIMARY KEY(`event_id`, `occurrence_start_ms`, `minutes_before`),
	FOREIGN KEY (`event_id`) REFERENCES `calendar_events`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
ALTER TABLE `devices` ADD `name` text;