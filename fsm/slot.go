package fsm

// SlotCount is the number of Redis Cluster hash slots.
const SlotCount = 16384

// KeySlot returns key's Redis Cluster hash slot: CRC16-XMODEM (polynomial
// 0x1021, initial value 0, no reflection) of the key's hash tag, modulo
// 16384. The hash tag is the part between the first '{' and the first '}'
// after it when that part is not empty; otherwise the whole key is hashed.
func KeySlot(key []byte) int {
	for i, c := range key {
		if c != '{' {
			continue
		}
		for j := i + 1; j < len(key); j++ {
			if key[j] == '}' {
				if j > i+1 {
					key = key[i+1 : j]
				}
				break
			}
		}
		break
	}
	return int(crc16(key) % SlotCount)
}

// crc16 is CRC16-XMODEM (CCITT polynomial 0x1021, init 0), bit by bit.
func crc16(b []byte) uint16 {
	var crc uint16
	for _, c := range b {
		crc ^= uint16(c) << 8
		for range 8 {
			if crc&0x8000 != 0 {
				crc = crc<<1 ^ 0x1021
			} else {
				crc <<= 1
			}
		}
	}
	return crc
}
