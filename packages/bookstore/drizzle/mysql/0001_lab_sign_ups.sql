CREATE TABLE `lab_sign_ups` (
	`id` int AUTO_INCREMENT NOT NULL,
	`email` varchar(320) NOT NULL,
	`name` varchar(200) NOT NULL,
	CONSTRAINT `lab_sign_ups_id` PRIMARY KEY(`id`),
	CONSTRAINT `lab_sign_ups_email_unique` UNIQUE(`email`)
);
--> statement-breakpoint
CREATE TABLE `lab_sign_ups_unkeyed` (
	`id` int AUTO_INCREMENT NOT NULL,
	`email` varchar(320) NOT NULL,
	`name` varchar(200) NOT NULL,
	CONSTRAINT `lab_sign_ups_unkeyed_id` PRIMARY KEY(`id`)
);
