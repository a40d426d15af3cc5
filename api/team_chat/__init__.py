"""Team chat for the mobile messenger of seed 004: accounts and tokens, direct and group chats on the one chat
model, live WebSocket frames, Lisa asked into a room, and meetings."""
