CREATE TABLE `calendar_occurrence_answers` (
	`event_id` text NOT NULL,
	`user_id` text NOT NULL,
	`recurrence_id` text NOT NULL,
	`status` text NOT NULL,
	`rsvp_ref` text NOT NULL,
	`rsvp_device` text NOT NULL,
	`updated_at` integer NOT NULL,
	PRIMARY KEY(`event_id`, `user_id`, `recurrence_id`),
	FOREIGN KEY (`event_id`) REFERENCES `calendar_events`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`user_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `calendar_occurrence_answers_user_idx` ON `calendar_occurrence_answers` (`user_id`);