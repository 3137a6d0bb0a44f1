CREATE TABLE `books` (
	`id` int AUTO_INCREMENT NOT NULL,
	`isbn` varchar(17) NOT NULL,
	`title` varchar(300) NOT NULL,
	`price_cents` int NOT NULL,
	`quantity` int NOT NULL DEFAULT 0,
	CONSTRAINT `books_id` PRIMARY KEY(`id`),
	CONSTRAINT `books_isbn_unique` UNIQUE(`isbn`),
	CONSTRAINT `books_quantity_nonnegative` CHECK(`books`.`quantity` >= 0),
	CONSTRAINT `books_price_nonnegative` CHECK(`books`.`price_cents` >= 0)
);
--> statement-breakpoint
CREATE TABLE `customers` (
	`id` int AUTO_INCREMENT NOT NULL,
	`email` varchar(320) NOT NULL,
	`name` varchar(200) NOT NULL,
	CONSTRAINT `customers_id` PRIMARY KEY(`id`),
	CONSTRAINT `customers_email_unique` UNIQUE(`email`)
);
--> statement-breakpoint
CREATE TABLE `orders` (
	`id` int AUTO_INCREMENT NOT NULL,
	`book_id` int NOT NULL,
	`customer_id` int NOT NULL,
	`created_at` timestamp(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
	CONSTRAINT `orders_id` PRIMARY KEY(`id`)
);
--> statement-breakpoint
CREATE TABLE `sent_emails` (
	`id` int AUTO_INCREMENT NOT NULL,
	`customer_id` int NOT NULL,
	`kind` varchar(50) NOT NULL,
	`sent_at` timestamp(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
	CONSTRAINT `sent_emails_id` PRIMARY KEY(`id`),
	CONSTRAINT `sent_emails_customer_kind_unique` UNIQUE(`customer_id`,`kind`)
);
--> statement-breakpoint
ALTER TABLE `orders` ADD CONSTRAINT `orders_book_id_books_id_fk` FOREIGN KEY (`book_id`) REFERENCES `books`(`id`) ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE `orders` ADD CONSTRAINT `orders_customer_id_customers_id_fk` FOREIGN KEY (`customer_id`) REFERENCES `customers`(`id`) ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE `sent_emails` ADD CONSTRAINT `sent_emails_customer_id_customers_id_fk` FOREIGN KEY (`customer_id`) REFERENCES `customers`(`id`) ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX `orders_book_id_idx` ON `orders` (`book_id`);--> statement-breakpoint
CREATE INDEX `orders_customer_id_idx` ON `orders` (`customer_id`);