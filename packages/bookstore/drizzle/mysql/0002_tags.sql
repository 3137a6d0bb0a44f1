CREATE TABLE `book_tags` (
	`book_id` int NOT NULL,
	`tag_id` int NOT NULL,
	CONSTRAINT `book_tags_book_id_tag_id_pk` PRIMARY KEY(`book_id`,`tag_id`)
);
--> statement-breakpoint
CREATE TABLE `tags` (
	`id` int AUTO_INCREMENT NOT NULL,
	`name` varchar(40) NOT NULL,
	CONSTRAINT `tags_id` PRIMARY KEY(`id`),
	CONSTRAINT `tags_name_unique` UNIQUE(`name`)
);
--> statement-breakpoint
ALTER TABLE `book_tags` ADD CONSTRAINT `book_tags_book_id_books_id_fk` FOREIGN KEY (`book_id`) REFERENCES `books`(`id`) ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE `book_tags` ADD CONSTRAINT `book_tags_tag_id_tags_id_fk` FOREIGN KEY (`tag_id`) REFERENCES `tags`(`id`) ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX `book_tags_tag_id_idx` ON `book_tags` (`tag_id`);