CREATE TABLE `files` (
	`id` text PRIMARY KEY NOT NULL,
	`conversation_id` text NOT NULL,
	`uploader_user_id` text NOT NULL,
	`status` text NOT NULL,
	`size` integer NOT NULL,
	`sha256` text,
	`message_client_id` text,
	`created_at` integer NOT NULL,
	`completed_at` integer,
	FOREIGN KEY (`conversation_id`) REFERENCES `conversations`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`uploader_user_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `files_conversation_idx` ON `files` (`conversation_id`,`created_at`);--> statement-breakpoint
CREATE INDEX `files_uploader_idx` ON `files` (`uploader_user_id`);--> statement-breakpoint
CREATE INDEX `files_message_idx` ON `files` (`conversation_id`,`message_client_id`);